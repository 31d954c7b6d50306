/** The one id space: specials, then text, then image codes; mapping both ways; JSON. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BYTE_TO_CHAR } from '../../src/tokenizers/byte-level.js';
import { BpeTokenizer } from '../../src/tokenizers/bpe.js';
import { Vocabulary, cm3leonSpecialTokens, maskSentinel } from '../../src/tokenizers/vocabulary.js';
import { smallTokenizer } from './helpers.js';

test('CM3leon specials: fixed ids, sentinels, reserved slots', () => {
  const s = cm3leonSpecialTokens();
  assert.equal(s.length, 32);
  assert.deepEqual(s.slice(0, 6), ['<pad>', '<eos>', '<break>', '<mask>', '<infill>', '<mask:0>']);
  assert.equal(s.indexOf(maskSentinel(15)), 20);
  assert.equal(s[21], '<reserved:0>');
  assert.equal(s[31], '<reserved:10>');
  assert.equal(cm3leonSpecialTokens({ maskSentinels: 4, slots: 16 }).length, 16);
  assert.throws(() => cm3leonSpecialTokens({ maskSentinels: 40, slots: 32 }), /45 special tokens do not fit in 32 slots/);
});

test('layout: specials, text, image; local <-> global both ways at every boundary', () => {
  const tok = smallTokenizer();
  const v = Vocabulary.forTokenizer(tok, { codebookSize: 8192, grid: 32 });
  assert.equal(v.textStart, 32);
  assert.equal(v.imageStart, tok.vocabSize);
  assert.equal(v.size, tok.vocabSize + 8192);
  assert.equal(v.imageTokens, 1024);
  assert.equal(v.specialId('<break>'), tok.specialId('<break>'));
  const cases: Array<[number, 'special' | 'text' | 'image', number]> = [
    [0, 'special', 0],
    [31, 'special', 31],
    [32, 'text', 0],
    [v.imageStart - 1, 'text', v.textTokens - 1],
    [v.imageStart, 'image', 0],
    [v.size - 1, 'image', 8191],
  ];
  for (const [id, kind, local] of cases) {
    assert.deepEqual(v.toLocal(id), { kind, local });
    assert.equal(v.toGlobal(kind, local), id);
    assert.equal(v.kindOf(id), kind);
  }
  assert.equal(v.imageId(5), v.imageStart + 5);
  assert.equal(v.describe(2), '<break>');
  assert.equal(v.describe(v.imageStart + 7), `image token 7 (id ${v.imageStart + 7})`);
});

test('out-of-range ids and indices are refused', () => {
  const v = Vocabulary.forTokenizer(smallTokenizer(), { codebookSize: 64, grid: 4 });
  assert.throws(() => v.kindOf(v.size), new RegExp(`unknown token id ${v.size}: the vocabulary has ids 0..${v.size - 1}`));
  assert.throws(() => v.kindOf(-1), /unknown token id -1/);
  assert.throws(() => v.imageId(64), /image index 64 is out of range 0..63/);
  assert.throws(() => v.toGlobal('special', 32), /special index 32 is out of range 0..31/);
  assert.throws(() => v.specialId('<nope>'), /no special token <nope>/);
});

test('JSON round trip, and bad JSON named by field', () => {
  const v = Vocabulary.forTokenizer(smallTokenizer(), { codebookSize: 1024, grid: 8 });
  const back = Vocabulary.fromJSON(JSON.parse(JSON.stringify(v)));
  assert.deepEqual(back.toJSON(), v.toJSON());
  assert.equal(back.size, v.size);
  const good = v.toJSON();
  assert.throws(() => Vocabulary.fromJSON({ ...good, imageGrid: 0 }), /imageGrid must be an integer >= 1, got 0/);
  assert.throws(() => Vocabulary.fromJSON({ ...good, textTokens: undefined }), /textTokens must be an integer/);
  assert.throws(() => Vocabulary.fromJSON({ ...good, specials: ['<pad>', '<eos>'] }), /<break> is missing/);
  assert.throws(() => Vocabulary.fromJSON(null), /not a JSON object/);
});

test('a tokenizer whose specials are not the first ids is refused', () => {
  const tok = new BpeTokenizer({
    vocab: [...BYTE_TO_CHAR, '<pad>', '<eos>', '<break>'],
    merges: [],
    specials: [{ content: '<pad>', id: 256 }, { content: '<eos>', id: 257 }, { content: '<break>', id: 258 }],
  });
  assert.throws(() => Vocabulary.forTokenizer(tok, { codebookSize: 16, grid: 2 }), /must take ids 0..2, but <pad> has id 256/);
});
