/** The hand-written pre-tokenizer splits exactly as GPT-2's regex does. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { preTokenize } from '../../src/tokenizers/byte-level.js';
import { scanPreTokens } from '../../src/tokenizers/pre-tokenize.js';
import { makeRng, randomText } from './helpers.js';

function same(s: string, label: string): void {
  const want = preTokenize(s);
  const got = scanPreTokens(s);
  if (want.length !== got.length || want.some((w, i) => w !== got[i])) {
    assert.deepEqual(got, want, `${label}: ${JSON.stringify(s)}`);
  }
}

test('every string of up to 4 characters over a tricky alphabet', () => {
  // Space, other whitespace, letters incl. contraction letters, digit, punctuation, apostrophe,
  // an astral letter, an astral digit, an emoji (astral "other"), a combining mark.
  const alphabet = [' ', '\n', '\u3000', 'a', 's', 'l', 'r', 'e', 'T', '1', '.', "'", '𝔘', '𝟙', '😀', '\u0301'];
  let strings = [''];
  for (let len = 1; len <= 4; len++) {
    const next: string[] = [];
    for (const s of strings) for (const ch of alphabet) next.push(s + ch);
    for (const s of next) same(s, `length ${len}`);
    strings = next;
  }
});

test('20000 random Unicode strings and every BMP character', () => {
  const rng = makeRng(4242);
  for (let i = 0; i < 20000; i++) same(randomText(rng, 30), `random ${i}`);
  for (let c = 0; c < 0x10000; c += 1) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const ch = String.fromCharCode(c);
    same(` ${ch}${ch} x`, `U+${c.toString(16)}`);
  }
});
