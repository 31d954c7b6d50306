import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type RgbImage } from '../../src/data/image.js';
import { HashEncoder } from '../../src/retrieval/encoders.js';
import { recordDocuments, type CaptionRecord } from '../../src/tasks/caption-docs.js';
import { planRetrieval, retrievalTransform } from '../../src/tasks/retrieval-docs.js';
import { Rng } from '../../src/tensor/index.js';
import { MultimodalTokenizer } from '../../src/tokenizers/multimodal.js';

const tok = MultimodalTokenizer.load('models/text-tokenizer/tokenizer.json', 'models/image-tokenizer');

function picture(colour: [number, number, number], x0: number): RgbImage {
  const image = createImage(64, 64);
  for (let y = 20; y < 44; y++) for (let x = x0; x < x0 + 24; x++) image.rgb.set(colour, (y * 64 + x) * 3);
  return image;
}

/** 8 images (4 colours x left/right), two captions each; codes are a per-image constant pattern. */
function fixture(): { records: CaptionRecord[]; pixels: Map<string, RgbImage> } {
  const colours: [string, [number, number, number]][] = [['red', [230, 20, 20]], ['blue', [20, 40, 230]], ['green', [20, 200, 40]], ['yellow', [240, 220, 20]]];
  const records: CaptionRecord[] = [];
  const pixels = new Map<string, RgbImage>();
  colours.forEach(([name, c], ci) => {
    for (const [side, x0] of [['left', 4], ['right', 36]] as const) {
      const image = `toy/${name}-${side}`;
      pixels.set(image, picture(c, x0));
      const codes = new Int32Array(tok.imageLength).fill(ci * 2 + (side === 'left' ? 0 : 1));
      records.push({ image, text: `a ${name} square on the ${side}`, codes }, { image, text: `${name} square, ${side} side`, codes });
    }
  });
  return { records, pixels };
}

test('retrieval plan: never the query image itself; the rules keep near-copies out', async () => {
  const { records, pixels } = fixture();
  const plan = await planRetrieval(records, new HashEncoder(), pixels, { keep: 2, seed: 1 });
  assert.equal(plan.bank.length, 8);
  assert.equal(plan.byImage.length, records.length);
  records.forEach((r, i) => {
    for (const j of [...plan.byImage[i]!, ...plan.byText[i]!]) assert.notEqual(plan.bank[j]!.image, r.image, `record ${i} retrieved its own image`);
    assert.ok(plan.byImage[i]!.length >= 1 && plan.byText[i]!.length >= 1);
  });
  // By image, the best other document is the same colour on the other side or a same-side square.
  const red = records.findIndex((r) => r.image === 'toy/red-left');
  const best = plan.bank[plan.byImage[red]![0]!]!.image;
  assert.ok(best === 'toy/red-right' || best.endsWith('-left'), best);
});

test('retrieval transform: 0-2 complete documents before the query, drawn from the plan, seeded', async () => {
  const { records, pixels } = fixture();
  const plan = await planRetrieval(records, new HashEncoder(), pixels, { keep: 2 });
  const { docs, recordOf } = recordDocuments(records, tok);
  assert.equal(docs.length, records.length * 2);
  const identity = (d: Int32Array): Int32Array => d;
  const transform = retrievalTransform(plan, recordOf, tok, identity);
  const counts = [0, 0, 0];
  for (let s = 0; s < 60; s++) {
    const doc = docs[s % docs.length]!;
    const out = transform(doc, new Rng(s));
    assert.deepEqual(transform(doc, new Rng(s)), out, 'same seed, same example');
    const decoded = tok.codec.decode(out);
    assert.equal(decoded.open, null);
    const n = decoded.documents.length - 1;
    counts[n]!++;
    // The query document comes last, unchanged.
    assert.deepEqual([...out.subarray(out.length - doc.length)], [...doc]);
    const i = recordOf.get(doc)!;
    const allowed = new Set([...plan.byImage[i]!, ...plan.byText[i]!].map((j) => plan.bank[j]!.text));
    for (const d of decoded.documents.slice(0, n)) {
      const text = d.find((seg) => seg.kind === 'text');
      assert.ok(text && text.kind === 'text' && allowed.has(text.text), `retrieved ${JSON.stringify(text)} is not in the plan`);
    }
  }
  assert.ok(counts.every((c) => c > 5), `documents prepended: ${counts}`);
  // A budget of one document plus a little: never more than the query and one retrieved document.
  const doc0 = docs[0]!;
  const tight = retrievalTransform(plan, recordOf, tok, identity, { maxTokens: doc0.length * 2 + 8 });
  for (let s = 0; s < 30; s++) assert.ok(tok.codec.decode(tight(doc0, new Rng(s))).documents.length <= 2);
  const none = retrievalTransform(plan, recordOf, tok, identity, { maxTokens: doc0.length });
  for (let s = 0; s < 10; s++) assert.deepEqual(none(doc0, new Rng(s)), doc0);
  // A document the plan does not know (held-out) passes through the inner transform only.
  const foreign = tok.encode([{ kind: 'text', text: 'held out' }]);
  assert.deepEqual(transform(foreign, new Rng(0)), foreign);
});
