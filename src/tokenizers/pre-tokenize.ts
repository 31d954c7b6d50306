/**
 * A hand-written scanner equivalent to GPT-2's pre-tokenization regex (PRE_TOKENIZE_PATTERN in
 * byte-level.ts), which stays the definition: the tests compare the two on random Unicode.
 *
 * Why: on the encode hot path the regex allocated a match object per word and dominated the
 * profile; this scanner classifies characters with a table and only returns word ends. Rules, in
 * the regex's order of alternatives, at a word start i:
 *   1. `'s 't 're 've 'm 'll 'd`
 *   2-4. an optional single space, then a run of letters, or of numbers, or of "other"
 *        characters (neither whitespace, letter nor number)
 *   5. a whitespace run that is not followed by a non-space: all of it at the end of the text,
 *      else all but its last character (which then starts the next word)
 *   6. any remaining whitespace run (a single whitespace character before a non-space)
 *
 * Expects well-formed text (paired surrogates); deliberately knows nothing about bytes or merges.
 */

const OTHER = 0;
const LETTER = 1;
const NUMBER = 2;
const SPACE = 3;

let bmpClass: Uint8Array | undefined;
const astralClass = new Map<number, number>();
const isLetter = /^\p{L}$/u;
const isNumber = /^\p{N}$/u;
const isSpace = /^\s$/u;

function classify(ch: string): number {
  return isLetter.test(ch) ? LETTER : isNumber.test(ch) ? NUMBER : isSpace.test(ch) ? SPACE : OTHER;
}

/** Built on first use (about 20 ms), so importing the module costs nothing. */
function bmpTable(): Uint8Array {
  if (!bmpClass) {
    bmpClass = new Uint8Array(0x10000);
    for (let c = 0; c < 0x10000; c++) {
      if (c < 0xd800 || c > 0xdfff) bmpClass[c] = classify(String.fromCharCode(c));
    }
  }
  return bmpClass;
}

function astral(cp: number): number {
  let k = astralClass.get(cp);
  if (k === undefined) astralClass.set(cp, (k = classify(String.fromCodePoint(cp))));
  return k;
}

/** Class of the character at i, and its width in UTF-16 units (2 for a surrogate pair). */
function classAt(text: string, i: number, table: Uint8Array): number {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff) return table[c]!;
  return astral(text.codePointAt(i)!);
}

function width(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff ? 2 : 1;
}

/** End (exclusive) of a run of class k starting at i. */
function runEnd(text: string, i: number, k: number, table: Uint8Array): number {
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) {
      if (table[c] !== k) break;
      i++;
    } else {
      if (astral(text.codePointAt(i)!) !== k) break;
      i += 2;
    }
  }
  return i;
}

/** Length of a contraction (`'s`, `'ll`, ...) at i, which holds an apostrophe; 0 if none. */
function contraction(text: string, i: number): number {
  const a = text.charCodeAt(i + 1);
  if (a === 0x73 || a === 0x74 || a === 0x6d || a === 0x64) return 2; // s t m d
  const b = text.charCodeAt(i + 2);
  if ((a === 0x72 || a === 0x76) && b === 0x65) return 3; // re ve
  if (a === 0x6c && b === 0x6c) return 3; // ll
  return 0;
}

/** End of the pre-token (word) that starts at i < text.length. */
export function preTokenEnd(text: string, i: number): number {
  const table = bmpClass ?? bmpTable();
  const n = text.length;
  const c = text.charCodeAt(i);
  if (c === 0x27) {
    const len = contraction(text, i);
    if (len > 0) return i + len;
  }
  let j = i;
  if (c === 0x20 && i + 1 < n) j = i + 1; // rules 2-4 allow one leading space
  const k = classAt(text, j, table);
  if (k !== SPACE) return runEnd(text, j + width(text, j), k, table);
  // Whitespace at i (or a space followed by whitespace): rules 5-6 from i.
  const end = runEnd(text, i + 1, SPACE, table); // whitespace is always one UTF-16 unit
  if (end === n || end - i === 1) return end;
  return end - 1;
}

/** All pre-tokens of a text; the scanner's version of byte-level.ts preTokenize. */
export function scanPreTokens(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    const e = preTokenEnd(text, i);
    out.push(text.slice(i, e));
    i = e;
  }
  return out;
}
