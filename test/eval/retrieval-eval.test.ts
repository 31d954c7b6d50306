import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage } from '../../src/data/image.js';
import { Cm3leon } from '../../src/decoding/pipeline.js';
import { imageNll, type CaptionItem } from '../../src/eval/generation-eval.js';
import { contextImageNll, retrievalTable, type ContextDocument } from '../../src/eval/retrieval-eval.js';
import { Decoder } from '../../src/model/decoder.js';
import { HashEncoder } from '../../src/retrieval/encoders.js';
import { MultimodalTokenizer } from '../../src/tokenizers/multimodal.js';

const tok = MultimodalTokenizer.load('models/text-tokenizer/tokenizer.json', 'models/image-tokenizer');
const model = new Decoder({ vocabSize: tok.vocab.size, dim: 32, heads: 2, layers: 1, maxPositions: 1024, seed: 3, zeroOutputLayers: false });
const m = new Cm3leon(model, tok);

function item(caption: string, colour: [number, number, number]): CaptionItem {
  const image = createImage(64, 64, colour);
  return { caption, image, conceptId: caption };
}

const items = [item('a red square', [220, 30, 30]), item('a blue square', [30, 30, 220])];
const doc = (i: number): ContextDocument => ({ id: `d${i}`, text: `document ${i}`, codes: new Int32Array(tok.imageLength).fill(i) });

test('retrieval NLL: with no documents it is the caption-conditioned image NLL; documents change it', () => {
  const none = contextImageNll(m, items, [[], []]);
  assert.ok(Math.abs(none - imageNll(m, items).withCaption) < 1e-5, `${none} vs ${imageNll(m, items).withCaption}`);
  const two = contextImageNll(m, items, [[doc(1), doc(2)], [doc(3), doc(4)]]);
  assert.ok(Number.isFinite(two) && Math.abs(two - none) > 1e-6);
  const many = Array.from({ length: 4 }, (_, i) => doc(i));
  assert.throws(() => contextImageNll(m, items.slice(0, 1), [many]), /exceed the model's 1024 positions/);
});

test('retrieval table: one row per document count, the retriever asked for k, images generated with the context', async () => {
  const asked: number[] = [];
  const seen: number[] = [];
  const rows = await retrievalTable(m, items, async (_caption, k) => {
    asked.push(k);
    return Array.from({ length: k }, (_, i) => doc(i + 5));
  }, new HashEncoder({ dim: 16 }), { generate: 2, seed: 1, onImage: (_k, _it, image, context) => seen.push(context.length, image.width) });
  assert.deepEqual(rows.map((r) => r.documents), [0, 1, 2]);
  assert.deepEqual(asked, [1, 1, 2, 2], 'k = 0 never asks the retriever');
  assert.deepEqual(seen, [0, 64, 0, 64, 1, 64, 1, 64, 2, 64, 2, 64]);
  for (const r of rows) {
    assert.ok(Number.isFinite(r.nll) && r.nll > 0);
    assert.equal(r.generated, 2);
    assert.ok(Number.isFinite(r.fid!) && r.fid! >= 0);
    assert.ok(r.clipScore! >= -1 && r.clipScore! <= 1);
  }
});
