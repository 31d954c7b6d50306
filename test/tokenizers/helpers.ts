/**
 * Shared by the tokenizer tests: a seeded PRNG, random Unicode strings that cover what breaks
 * byte-level tokenizers (astral planes, combining marks, ZWJ emoji, controls, BOM, unusual
 * whitespace), a deterministic training corpus, one small trained tokenizer, a check that two
 * modules' weights agree, and a small Shapes dataset in a temporary folder.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildShapes } from '../../src/data/shapes-build.js';
import { trainBpe } from '../../src/tokenizers/bpe-train.js';
import type { BpeTokenizer } from '../../src/tokenizers/bpe.js';
import { cm3leonSpecialTokens } from '../../src/tokenizers/vocabulary.js';

/** mulberry32: small, fast, good enough for tests; returns floats in [0, 1). */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randInt(rng: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

function pick<T>(rng: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rng() * xs.length)]!;
}

const WORDS = (
  'the a an of and to in is was for on with as by at from that this it be are or not red blue ' +
  'green yellow small large circle square triangle star emoji face smiling cat dog tree house ' +
  "image of left right above below next picture photo drawing man woman person hand heart it's " +
  "don't we'll they've I'm she'd"
).split(' ');

const PIECES = [
  ' ', '  ', '\n', '\t', '\r\n', '\u00a0', '\u2028', '\u3000', '\u200b', '\ufeff', '\ufffd',
  '\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u009f', '\ufffe', '\uffff',
  'é', 'e\u0301', 'n\u0303\u0323', 'ß', 'Ω', 'Ж', 'ﬁ', 'İ', 'ǅ',
  '日本語', '中文', '한국어', 'ไทย', 'العربية', 'हिन्दी', 'עברית',
  '😀', '👍🏽', '👩‍👩‍👧‍👦', '🏳️‍🌈', '❤️', '🇫🇷', '𝔘𝔫𝔦', '𐍈', '\u{10fffd}', '\u{e0041}',
  "'s", "'ll", "'re", "'t", '...', '--', '<eos>', '<break>', '<mask:3>', '<', '>', '0', '42', '3.14', '١٢٣',
];

/** A random code point anywhere in Unicode except the surrogate range. */
function randomCodePoint(rng: () => number): string {
  for (;;) {
    const r = rng();
    const cp = r < 0.5 ? randInt(rng, 0, 0xffff) : r < 0.8 ? randInt(rng, 0x10000, 0x2ffff) : randInt(rng, 0, 0x10ffff);
    if (cp < 0xd800 || cp > 0xdfff) return String.fromCodePoint(cp);
  }
}

/** A well-formed random string of up to maxParts pieces (words, scripts, emoji, controls...). */
export function randomText(rng: () => number, maxParts = 24): string {
  const n = randInt(rng, 0, maxParts);
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rng();
    if (r < 0.35) s += (rng() < 0.6 ? ' ' : '') + pick(rng, WORDS);
    else if (r < 0.7) s += pick(rng, PIECES);
    else if (r < 0.85) s += randomCodePoint(rng);
    else if (r < 0.92) s += String.fromCharCode(randInt(rng, 0x300, 0x36f)); // lone combining mark
    else s += String.fromCharCode(randInt(rng, 0x20, 0x7e)).repeat(randInt(rng, 1, 5));
  }
  return s;
}

const SYLLABLES = 'ka lo mi ne ru sa te vo zi bra cle dro fli gru pla stri tho wha qu ing tion er ly ous'.split(' ');

function pseudoWord(rng: () => number): string {
  let w = '';
  for (let i = randInt(rng, 1, 4); i > 0; i--) w += pick(rng, SYLLABLES);
  return rng() < 0.1 ? w[0]!.toUpperCase() + w.slice(1) : w;
}

/** A deterministic, mostly English corpus with some other scripts, `bytes` long (about). */
export function makeCorpus(seed: number, bytes: number): string {
  const rng = makeRng(seed);
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const words = randInt(rng, 4, 14);
    let line = '';
    for (let i = 0; i < words; i++) line += (i ? ' ' : '') + (rng() < 0.7 ? pick(rng, WORDS) : pseudoWord(rng));
    if (rng() < 0.2) line += ' ' + pick(rng, PIECES);
    line += pick(rng, ['.', '!', '?', ',', '']) + '\n';
    parts.push(line);
    size += line.length;
  }
  return parts.join('');
}

let shared: BpeTokenizer | undefined;

/** A tokenizer trained once per test process on makeCorpus(1, 200k): 1000 ids. */
export function smallTokenizer(): BpeTokenizer {
  shared ??= trainBpe(makeCorpus(1, 200_000), { vocabSize: 1000, specials: cm3leonSpecialTokens() });
  return shared;
}

/** Asserts every tensor of state dict `b` is within `tolerance` of `a`'s, naming the first that is not. */
export function assertSameWeights(
  a: Map<string, { data: ArrayLike<number> }>, b: Map<string, { data: ArrayLike<number> }>, tolerance: number, what = '',
): void {
  for (const [name, t] of a) {
    const u = b.get(name)!.data;
    let diff = 0;
    for (let i = 0; i < t.data.length; i++) diff = Math.max(diff, Math.abs(t.data[i]! - u[i]!));
    assert.ok(diff < tolerance, `${what}${name}: max diff ${diff}`);
  }
}

/** Builds a Shapes dataset of `n` scenes in a temporary folder, runs `fn` on its path, then removes it. */
export async function withShapesDataset<T>(o: { n: number; seed: number; heldOutFraction?: number }, fn: (data: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-shapes-'));
  try {
    const data = join(dir, 'shapes');
    await buildShapes({ ...o, out: data });
    return await fn(data);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
