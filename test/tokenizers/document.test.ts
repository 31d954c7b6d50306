/** Mixed-modal documents: the paper's layouts, random round trips, and errors that say where. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DocumentCodec, imageSegment, textSegment, type Document } from '../../src/tokenizers/document.js';
import { Vocabulary } from '../../src/tokenizers/vocabulary.js';
import { makeRng, randInt, randomText, smallTokenizer } from './helpers.js';

const GRID = 4;
const CODES = 64;

function codec(): DocumentCodec {
  const tok = smallTokenizer();
  return new DocumentCodec(tok, Vocabulary.forTokenizer(tok, { codebookSize: CODES, grid: GRID }));
}

function randomImage(rng: () => number) {
  return imageSegment(Array.from({ length: GRID * GRID }, () => randInt(rng, 0, CODES - 1)));
}

function randomDocument(rng: () => number): Document {
  const doc: Document = [];
  for (let n = randInt(rng, 0, 4); n > 0; n--) {
    let text = randomText(rng, 10);
    if (text.length === 0) text = 'x';
    doc.push(rng() < 0.5 ? textSegment(text) : randomImage(rng));
  }
  return doc;
}

test('caption <break> image <eos>, and image <break> caption <eos>', () => {
  const c = codec();
  const v = c.vocab;
  const img = randomImage(makeRng(1));
  const caption = 'a red circle';
  const ids = Array.from(c.encode([textSegment(caption), img]));
  const textIds = smallTokenizer().encode(caption);
  const imageIds = Array.from(img.codes, (code) => v.imageStart + code);
  assert.deepEqual(ids, [...textIds, v.specialId('<break>'), ...imageIds, v.specialId('<eos>')]);
  const reversed = Array.from(c.encode([img, textSegment(caption)]));
  assert.deepEqual(reversed, [...imageIds, v.specialId('<break>'), ...textIds, v.specialId('<eos>')]);
  assert.deepEqual(c.decodeOne(ids), [textSegment(caption), img]);
});

test('prompts end with <break>; retrieved documents come first; the paper\'s leading <eos>', () => {
  const c = codec();
  const v = c.vocab;
  const rng = makeRng(2);
  const retrieved = [[textSegment('a blue square'), randomImage(rng)], [randomImage(rng), textSegment('a star')]];
  const prompt = [textSegment('a green star')];
  const ids = c.encodePrompt(retrieved, prompt, { leadingEos: true });
  assert.equal(ids[0], v.specialId('<eos>'));
  assert.equal(ids[ids.length - 1], v.specialId('<break>'));
  const r = c.decode(ids, { leadingEos: true });
  assert.deepEqual(r.documents, retrieved);
  assert.deepEqual(r.open, prompt);
  assert.equal(r.endsWithBreak, true);
  // Without leadingEos on decode, the opening <eos> reads as an empty document.
  assert.deepEqual(c.decode(ids).documents[0], []);
  // A prompt with no segments at all is just the context.
  assert.deepEqual(c.decode(c.encodeMany(retrieved)), { documents: retrieved, open: null, endsWithBreak: false });
});

test('random documents -> ids -> documents are equal (2000 sequences)', () => {
  const c = codec();
  const rng = makeRng(31337);
  for (let t = 0; t < 2000; t++) {
    const docs = Array.from({ length: randInt(rng, 1, 3) }, () => randomDocument(rng));
    const end = (['eos', 'break', 'none'] as const)[randInt(rng, 0, 2)]!;
    const lastEmpty = docs[docs.length - 1]!.length === 0;
    if (end === 'break' && lastEmpty) continue; // "<break>" after nothing is not a document
    const leadingEos = rng() < 0.3;
    const ids = c.encodeMany(docs, { end, leadingEos });
    const r = c.decode(ids, { leadingEos });
    const expected = end === 'eos' ? docs : docs.slice(0, -1);
    assert.deepEqual(r.documents, expected, `sequence ${t}`);
    if (end !== 'eos') assert.deepEqual(r.open, lastEmpty ? null : docs[docs.length - 1]);
    assert.equal(r.endsWithBreak, end === 'break');
  }
});

test('a literal "<eos>" or "<break>" in a caption stays text', () => {
  const c = codec();
  const doc = [textSegment('say <eos> and <break> please'), randomImage(makeRng(4))];
  const ids = c.encode(doc);
  assert.equal(ids.filter((id) => id === c.vocab.specialId('<eos>')).length, 1);
  assert.deepEqual(c.decodeOne(ids), doc);
});

test('encoding refuses bad documents, naming the segment', () => {
  const c = codec();
  const img = randomImage(makeRng(5));
  const cases: Array<[Document, RegExp]> = [
    [[textSegment('x'), imageSegment(new Array(63).fill(0))], /segment 1: image has 63 codes, expected 16 \(a 4x4 grid\)/],
    [[imageSegment([...new Array(15).fill(0), 64])], /segment 0: image code 64 at index 15 \(row 3, column 3\) is outside the codebook 0..63/],
    [[{ kind: 'image', codes: [1, 2] as unknown as Int32Array }], /segment 0: image codes must be an Int32Array/],
    [[textSegment('')], /segment 0: text must be a non-empty string/],
    [[img, { kind: 'video' } as unknown as Document[number]], /segment 1: kind must be 'text' or 'image', got "video"/],
    [[textSegment('bad \ud800 text')], /segment 0: text has a lone surrogate U\+D800 at index 4/],
  ];
  for (const [doc, re] of cases) assert.throws(() => c.encode(doc), re);
  assert.throws(() => c.encodeMany([[textSegment('ok')], [textSegment('')]]), /document 1, segment 0/);
});

test('decoding refuses bad ids, naming the position', () => {
  const c = codec();
  const v = c.vocab;
  const [eos, brk, mask] = [v.specialId('<eos>'), v.specialId('<break>'), v.specialId('<mask>')];
  const text = smallTokenizer().encode('a cat');
  const image = (n: number) => new Array(n).fill(v.imageStart + 3);
  const cases: Array<[number[], RegExp]> = [
    [[...text, brk, ...image(15), eos], /image segment at positions 3..17 has 15 codes, expected 16 \(a 4x4 grid\)/],
    [[...text, ...image(16), eos], /mixes text and image tokens \(image token 3 \(id \d+\) at position 2\)/],
    [[...text, v.size, eos], new RegExp(`unknown token id ${v.size} at position 2: the vocabulary has ids 0..${v.size - 1}`)],
    [[...text, mask, eos], /unexpected <mask> at position 2: documents hold only/],
    [[...text, brk, brk, eos], /empty segment at position 3: <break> right after <break>/],
    [[brk, ...text, eos], /empty segment at position 0: <break> right after the start of a document/],
    [[...text, brk, eos], /empty segment at position 3: <eos> right after <break>/],
  ];
  for (const [ids, re] of cases) assert.throws(() => c.decode(ids), re);
  assert.throws(() => c.decodeOne([...text]), /expected exactly one document ending with <eos>, found 0 complete and an unfinished one/);
  assert.throws(() => c.decode([...text], { leadingEos: true }), /expected <eos> at position 0/);
});

test('a codec refuses a vocabulary that does not match its tokenizer', () => {
  const tok = smallTokenizer();
  const v = new Vocabulary({ ...Vocabulary.forTokenizer(tok, { codebookSize: 8, grid: 2 }).toJSON(), textTokens: 500 });
  assert.throws(() => new DocumentCodec(tok, v), /has 1000 ids but the vocabulary's text range ends at 532/);
});
