/** Property test: decode(encode(s)) === s for thousands of random well-formed Unicode strings. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeRng, randomText, smallTokenizer } from './helpers.js';

test('round trip on 5000 random Unicode strings, with and without special matching', () => {
  const tok = smallTokenizer();
  const rng = makeRng(20230919);
  let tokens = 0;
  for (let i = 0; i < 5000; i++) {
    const s = randomText(rng);
    const ids = tok.encode(s);
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= tok.vocabSize || tok.isSpecial(id)) {
        assert.fail(`string ${i} ${JSON.stringify(s)}: bad id ${id}`);
      }
    }
    const back = tok.decode(ids);
    if (back !== s) assert.equal(back, s, `string ${i} did not round-trip`);
    const withSpecials = tok.encode(s, { allowSpecial: true });
    if (tok.decode(withSpecials) !== s) assert.equal(tok.decode(withSpecials), s, `string ${i} (allowSpecial)`);
    tokens += ids.length;
  }
  assert.ok(tokens > 10_000);
});

test('round trip on edge strings', () => {
  const tok = smallTokenizer();
  const cases = [
    '', ' ', '   ', '\n\n\n', '\ufeffBOM first', 'a\u0000b', '\u{10ffff}', '\u{10000}', '\uffff\ufffe',
    'e\u0301\u0301\u0301', '👩🏽‍🚀 and 🧑‍🤝‍🧑', "it's   we'll\t\tyou've", 'x'.repeat(10_000), ' '.repeat(1000) + 'y',
    '𝕋𝕖𝕩𝕥 𝔦𝔫 𝔞𝔰𝔱𝔯𝔞𝔩', '<eos><eos>', '\r\n\u2028\u2029\u0085',
  ];
  for (const s of cases) assert.equal(tok.decode(tok.encode(s)), s, JSON.stringify(s.slice(0, 40)));
  // Every single code point of the BMP (minus surrogates) and a stride through the astral planes.
  let bmp = '';
  for (let c = 0; c < 0x10000; c++) if (c < 0xd800 || c > 0xdfff) bmp += String.fromCharCode(c);
  assert.equal(tok.decode(tok.encode(bmp)), bmp);
  let astral = '';
  for (let c = 0x10000; c <= 0x10ffff; c += 97) astral += String.fromCodePoint(c);
  assert.equal(tok.decode(tok.encode(astral)), astral);
});
