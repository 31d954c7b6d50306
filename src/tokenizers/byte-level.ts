/**
 * The byte-level half of GPT-2-style BPE: the 256-symbol byte alphabet (each byte shown as one
 * printable character, so tokens are readable strings in `tokenizer.json`), the pre-tokenization
 * regex, UTF-8 encoding into a reusable buffer, and the lone-surrogate policy.
 *
 * Deliberately not here: merges, vocabularies, special tokens (see bpe.ts).
 */
import { TokenizerError } from './errors.js';

/**
 * GPT-2's pre-tokenization pattern, character for character the one Hugging Face's ByteLevel
 * pre-tokenizer uses (Rust `tokenizers` and `@huggingface/tokenizers`), so that our ids equal theirs.
 * Its alternatives cover every character, so the matches concatenate back to the input exactly.
 * This is the definition; encode and training use the equivalent, faster scanner in
 * pre-tokenize.ts (the tests hold the two equal).
 */
export const PRE_TOKENIZE_PATTERN =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** One compiled instance per module: `lastIndex` is reset by every caller before use. */
export const preTokenizeRegex = new RegExp(PRE_TOKENIZE_PATTERN, 'gu');

/**
 * GPT-2's `bytes_to_unicode`: printable Latin-1 bytes map to themselves, the other 68 bytes to
 * U+0100.. in byte order. Index = byte, value = the one-character string standing for it.
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(printable(b) ? b : 256 + n++);
  return out;
})();

/** Inverse of BYTE_TO_CHAR, keyed by char code (all codes are < 0x144). */
const CHAR_CODE_TO_BYTE: Int16Array = (() => {
  const out = new Int16Array(0x200).fill(-1);
  BYTE_TO_CHAR.forEach((ch, b) => (out[ch.charCodeAt(0)] = b));
  return out;
})();

/** Byte-level token string (e.g. "Ġthe") -> its bytes; throws if a character is outside the alphabet. */
export function tokenStringToBytes(token: string): Uint8Array {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    const b = c < CHAR_CODE_TO_BYTE.length ? CHAR_CODE_TO_BYTE[c]! : -1;
    if (b < 0) {
      throw new TokenizerError(
        `token ${JSON.stringify(token)} has character U+${c.toString(16).toUpperCase().padStart(4, '0')} ` +
          `at ${i}, which is not in the byte-level alphabet`,
      );
    }
    out[i] = b;
  }
  return out;
}

/** Bytes -> byte-level token string. */
export function bytesToTokenString(bytes: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]!]!;
  return s;
}

/**
 * What to do with a lone (unpaired) UTF-16 surrogate. It has no UTF-8 encoding, so no byte-level
 * tokenizer can give it back: 'error' (the default) refuses the text, naming the position;
 * 'replace' encodes U+FFFD in its place (what TextEncoder does silently), so decode returns U+FFFD.
 */
export type LoneSurrogatePolicy = 'error' | 'replace';

/** Returns `text` ready for UTF-8 encoding under `policy`, or throws naming the first bad index. */
export function checkWellFormed(text: string, policy: LoneSurrogatePolicy): string {
  if ((text as unknown as { isWellFormed(): boolean }).isWellFormed()) return text;
  if (policy === 'replace') return (text as unknown as { toWellFormed(): string }).toWellFormed();
  const at = findLoneSurrogate(text);
  const code = text.charCodeAt(at).toString(16).toUpperCase();
  throw new TokenizerError(
    `text has a lone surrogate U+${code} at index ${at}: it has no UTF-8 encoding, so it cannot ` +
      `round-trip; pass loneSurrogates: 'replace' to encode it as U+FFFD`,
  );
}

function findLoneSurrogate(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) i++;
      else return i;
    } else if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}

/**
 * UTF-8 encodes a well-formed string into `buf` (grown as needed) and returns the byte count.
 * Hand-written because TextEncoder allocates a fresh array per call, and encode calls this once
 * per uncached word.
 */
export function utf8EncodeInto(text: string, buf: { bytes: Uint8Array }): number {
  if (buf.bytes.length < text.length * 3) buf.bytes = new Uint8Array(text.length * 3 + 16);
  const out = buf.bytes;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      // Well-formed input: a high surrogate is always followed by a low one (4 UTF-16 -> 4 bytes).
      c = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
      out[n++] = 0xf0 | (c >> 18);
      out[n++] = 0x80 | ((c >> 12) & 0x3f);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return n;
}

/** Splits text into pre-tokens (words) the way GPT-2 does, by the regex; merges never cross these. */
export function preTokenize(text: string): string[] {
  return text.match(preTokenizeRegex) ?? [];
}
