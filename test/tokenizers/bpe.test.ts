/** Byte-level BPE: hand-checked ids, training by hand, specials, lone surrogates, bad ids. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BYTE_TO_CHAR } from '../../src/tokenizers/byte-level.js';
import { BpeTokenizer } from '../../src/tokenizers/bpe.js';
import { PairTable, mergeWordHeap, mergeWordScan } from '../../src/tokenizers/bpe-merge.js';
import { trainBpe, trainBpeModel } from '../../src/tokenizers/bpe-train.js';
import { TokenizerError } from '../../src/tokenizers/errors.js';
import { makeRng, randInt, randomText, smallTokenizer } from './helpers.js';

/** specials <pad>=0 <eos>=1, bytes 2..257, then Ġt=258, he=259, Ġthe=260. */
function handMade(): BpeTokenizer {
  return new BpeTokenizer({
    vocab: ['<pad>', '<eos>', ...BYTE_TO_CHAR, 'Ġt', 'he', 'Ġthe'],
    merges: [['Ġ', 't'], ['h', 'e'], ['Ġt', 'he']],
    specials: [{ content: '<pad>', id: 0 }, { content: '<eos>', id: 1 }],
  });
}

const byteId = (ch: string) => 2 + ch.charCodeAt(0);

test('hand-made merges give hand-checked ids', () => {
  const tok = handMade();
  // "the" -> t,h,e -> (h,e) is the only merge -> [t, he]; " the" -> Ġt -> Ġt,he -> Ġthe.
  assert.deepEqual(tok.encode('the the'), [byteId('t'), 259, 260]);
  assert.deepEqual(tok.tokenize('the the'), ['t', 'he', 'Ġthe']);
  // Merges never cross pre-token boundaries: "t" + "he" across "-" stays apart.
  assert.deepEqual(tok.encode('t-he'), [byteId('t'), byteId('-'), 259]);
  // Two-byte UTF-8 "é" = C3 A9 -> two byte tokens.
  assert.deepEqual(tok.encode('é'), [2 + 0xc3, 2 + 0xa9]);
  assert.equal(tok.decode([260, 1, byteId('!')]), ' the<eos>!');
  assert.equal(tok.decode([260, 1, byteId('!')], { skipSpecial: true }), ' the!');
});

test('training by hand: "aaabdaaabac" merges aa, then ab (tie to the smaller pair), then aa+ab', () => {
  const model = trainBpeModel('aaabdaaabac', { vocabSize: 256 + 3, minFrequency: 1 });
  assert.deepEqual(model.merges, [['a', 'a'], ['a', 'b'], ['aa', 'ab']]);
  assert.deepEqual(model.vocab.slice(256), ['aa', 'ab', 'aaab']);
  const tok = new BpeTokenizer(model);
  assert.deepEqual(tok.tokenize('aaabdaaabac'), ['aaab', 'd', 'aaab', 'a', 'c']);
});

test('training stops below the target when no pair is frequent enough', () => {
  const model = trainBpeModel('ab cd', { vocabSize: 1000, minFrequency: 2 });
  assert.equal(model.merges.length, 0);
  assert.throws(() => trainBpeModel('x', { vocabSize: 100 }), /too small/);
});

test('specials are matched only when allowed, atomically, longest first', () => {
  const tok = smallTokenizer();
  const eos = tok.specialId('<eos>');
  const mask3 = tok.specialId('<mask:3>');
  const text = 'a cat<eos><mask:3> <pad>';
  const plain = tok.encode(text);
  assert.ok(plain.every((id) => !tok.isSpecial(id)), 'no special ids without allowSpecial');
  assert.equal(tok.decode(plain), text);
  const all = tok.encode(text, { allowSpecial: true });
  assert.deepEqual(all.filter((id) => tok.isSpecial(id)), [eos, mask3, tok.specialId('<pad>')]);
  assert.equal(tok.decode(all), text);
  const some = tok.encode(text, { allowSpecial: ['<eos>'] });
  assert.deepEqual(some.filter((id) => tok.isSpecial(id)), [eos]);
  assert.equal(tok.decode(some), text);
  assert.throws(() => tok.encode('x', { allowSpecial: ['<nope>'] }), /no special token "<nope>"/);
});

test('merges never produce a special token, even one the pre-tokenizer keeps whole', () => {
  // "ab" is one pre-token, so "a"+"b" is the most frequent pair; it spells the special "ab".
  const tok = trainBpe('ab ab ab abab cd cd', { vocabSize: 300, specials: ['ab'], minFrequency: 1 });
  assert.ok(!tok.merges.some(([a, b]) => a + b === 'ab'));
  assert.equal(tok.vocab.indexOf('ab'), 0);
  assert.ok(tok.encode('ab ab').every((id) => id !== 0));
  // And a hand-written file that tries it is refused.
  assert.throws(
    () => new BpeTokenizer({ vocab: ['ab', ...BYTE_TO_CHAR], merges: [['a', 'b']], specials: [{ content: 'ab', id: 0 }] }),
    /the result is a special token/,
  );
  const small = smallTokenizer();
  for (const s of small.specials) assert.equal(small.tokenToId(s.content), s.id);
});

test('lone surrogates: refused with the index by default, U+FFFD when asked', () => {
  const tok = smallTokenizer();
  const cases = [
    ['a\ud800b', 1, 'D800', 'a\ufffdb'],
    ['ok \udc00', 3, 'DC00', 'ok \ufffd'],
    ['x😀\ud83d', 3, 'D83D', 'x😀\ufffd'],
    ['\udc00\ud800', 0, 'DC00', '\ufffd\ufffd'],
  ] as const;
  for (const [text, at, code, replaced] of cases) {
    assert.throws(
      () => tok.encode(text),
      (e: unknown) => e instanceof TokenizerError && e.message.includes(`lone surrogate U+${code} at index ${at}`),
    );
    const ids = tok.encode(text, { loneSurrogates: 'replace' });
    assert.equal(tok.decode(ids), replaced);
  }
});

test('decode refuses unknown ids, naming the position', () => {
  const tok = smallTokenizer();
  assert.throws(() => tok.decode([40, 41, 99999]), /unknown token id 99999 at position 2 \(vocabulary size 1000\)/);
  assert.throws(() => tok.decode([-1]), /unknown token id -1 at position 0/);
  assert.throws(() => tok.decode([1.5]), /unknown token id 1.5/);
  // Ids that split a character decode to U+FFFD rather than throwing (model output can do that).
  assert.equal(tok.decode([tok.tokenToId(BYTE_TO_CHAR[0xe6]!)!]), '\ufffd');
});

test('the heap merge equals the scan merge on random words', () => {
  const tok = smallTokenizer();
  const idPairs = tok.merges.map(([a, b]) => [tok.tokenToId(a)!, tok.tokenToId(b)!] as [number, number]);
  const mergeId = Int32Array.from(tok.merges.map(([a, b]) => tok.tokenToId(a + b)!));
  const table = new PairTable(idPairs);
  const rng = makeRng(7);
  for (let t = 0; t < 300; t++) {
    const bytes = new TextEncoder().encode(randomText(rng, 40).replace(/\s/g, ''));
    const n = bytes.length;
    if (n === 0) continue;
    const a = Int32Array.from(bytes, (b) => tok.tokenToId(BYTE_TO_CHAR[b]!)!);
    const b = a.slice();
    const na = mergeWordScan(a, n, table, mergeId, new Int32Array(n));
    const nb = mergeWordHeap(b, n, table, mergeId);
    assert.deepEqual(Array.from(b.subarray(0, nb)), Array.from(a.subarray(0, na)));
  }
});

test('a long word (one 200k-byte pre-token) encodes in linear-ish time and round-trips', () => {
  const tok = smallTokenizer();
  const rng = makeRng(3);
  let s = '';
  for (let i = 0; i < 70_000; i++) s += String.fromCharCode(randInt(rng, 0x4e00, 0x4e40));
  const t0 = performance.now();
  const ids = tok.encode(s);
  assert.ok(performance.now() - t0 < 2000, 'heap merge keeps long words fast');
  assert.equal(tok.decode(ids), s);
});
