/**
 * tokenizer.json: save/load round trip, and the file read by `@huggingface/tokenizers` gives the
 * same ids and text as we do. Refusals of unsupported files are by name.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { fromTokenizerJson, loadTokenizerJson, saveTokenizerJson, toTokenizerJson } from '../../src/tokenizers/tokenizer-json.js';
import { makeCorpus, makeRng, randomText, smallTokenizer } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cm3leon-tok-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function savedCopy() {
  const tok = smallTokenizer();
  const path = join(dir, 'tokenizer.json');
  saveTokenizerJson(tok, path);
  return { tok, path, json: JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> };
}

test('save then load gives the same tokenizer', () => {
  const { tok, path } = savedCopy();
  const back = loadTokenizerJson(path);
  assert.deepEqual(back.vocab, tok.vocab);
  assert.deepEqual(back.merges, tok.merges);
  assert.deepEqual(back.specials, tok.specials);
  const text = makeCorpus(5, 20_000);
  assert.deepEqual(back.encode(text), tok.encode(text));
});

test('@huggingface/tokenizers reads our file and agrees on ids and text', () => {
  const { tok, json } = savedCopy();
  const hf = new Tokenizer(json, {});
  const rng = makeRng(99);
  const texts = [makeCorpus(6, 30_000), 'Image of a red circle <break>', ...Array.from({ length: 1500 }, () => randomText(rng))];
  for (const [i, s] of texts.entries()) {
    const ours = tok.encode(s, { allowSpecial: true }); // HF always matches added tokens
    const theirs = s.length === 0 ? [] : hf.encode(s, { add_special_tokens: false }).ids;
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) assert.deepEqual(ours, theirs, `text ${i}: ${JSON.stringify(s)}`);
    if (ours.length > 0) {
      assert.equal(hf.decode(ours, { clean_up_tokenization_spaces: false }), tok.decode(ours), `decode ${i}`);
    }
  }
  assert.equal(hf.token_to_id('<break>'), tok.specialId('<break>'));
});

test('merges in the older "a b" string form load too', () => {
  const { tok, json } = savedCopy();
  const model = json['model'] as { merges: string[][] };
  const legacy = { ...json, model: { ...model, merges: model.merges.map(([a, b]) => `${a} ${b}`) } };
  assert.deepEqual(fromTokenizerJson(legacy).encode('the red circle'), tok.encode('the red circle'));
});

test('unsupported or broken files are refused by name', () => {
  const { json } = savedCopy();
  const model = json['model'] as Record<string, unknown>;
  const vocab = model['vocab'] as Record<string, number>;
  const broken: Array<[unknown, RegExp]> = [
    [[], /not a JSON object/],
    [{ ...json, normalizer: { type: 'NFC' } }, /normalizers are not supported/],
    [{ ...json, pre_tokenizer: { type: 'Whitespace' } }, /pre_tokenizer must be \{"type": "ByteLevel"\}/],
    [{ ...json, pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true } }, /add_prefix_space/],
    [{ ...json, model: { ...model, type: 'WordPiece' } }, /model type "WordPiece" is not supported/],
    [{ ...json, model: { ...model, dropout: 0.1 } }, /model.dropout is not supported/],
    [{ ...json, model: { ...model, merges: [['q', 'z', 'x']] } }, /merges\[0\] is neither/],
    [{ ...json, model: { ...model, merges: [['qz', 'x']] } }, /merge 0 .*not an ordinary token/],
    [{ ...json, model: { ...model, vocab: { ...vocab, extra: 5000 } } }, /"extra"\] = 5000 is not a valid id/],
    [{ ...json, model: { ...model, vocab: { ...vocab, extra: 1001 } } }, /no token has id 1000/],
    [{ ...json, added_tokens: [{ id: 40, content: '<x>', special: true }] }, /has id 40, which the vocab gives to/],
  ];
  for (const [file, re] of broken) assert.throws(() => fromTokenizerJson(file, 'test.json'), re);
  const notJson = join(dir, 'bad.json');
  writeFileSync(notJson, '{ nope');
  assert.throws(() => loadTokenizerJson(notJson), /bad.json: not valid JSON/);
  assert.throws(() => loadTokenizerJson(join(dir, 'missing.json')), /cannot read tokenizer/);
});

test('the written file has the shape Hugging Face writes', () => {
  const json = toTokenizerJson(smallTokenizer()) as Record<string, Record<string, unknown>>;
  assert.equal(json['model']!['type'], 'BPE');
  assert.equal(json['pre_tokenizer']!['type'], 'ByteLevel');
  assert.equal(json['decoder']!['type'], 'ByteLevel');
  const added = json['added_tokens'] as unknown as Array<{ id: number; content: string; special: boolean }>;
  assert.deepEqual(added.slice(0, 3).map((t) => [t.id, t.content, t.special]), [[0, '<pad>', true], [1, '<eos>', true], [2, '<break>', true]]);
});
