/**
 * Byte-level BPE tokenizer (GPT-2 style): text -> pre-tokens (GPT-2's split, pre-tokenize.ts) ->
 * UTF-8 bytes -> ranked merges (bpe-merge.ts) -> ids, and back. Ids agree with Hugging Face
 * `tokenizers` loading the same `tokenizer.json` (see tokenizer-json.ts and the tests). Speed
 * comes from a per-word cache keyed by the pre-token's text, so a word seen before costs one Map
 * lookup and no UTF-8 encoding.
 *
 * Round trip: decode(encode(s)) === s for every well-formed JS string. Strings with lone surrogates
 * are refused by default (see LoneSurrogatePolicy in byte-level.ts).
 *
 * Special tokens (e.g. `<eos>`) have their own ids, are never the result of a merge, and are
 * matched in input text only when the caller passes `allowSpecial`; otherwise "<eos>" in a caption
 * is just five characters. Deliberately not here: training (bpe-train.ts), file formats
 * (tokenizer-json.ts), the model-wide id layout (vocabulary.ts).
 */
import {
  BYTE_TO_CHAR,
  checkWellFormed,
  tokenStringToBytes,
  utf8EncodeInto,
  type LoneSurrogatePolicy,
} from './byte-level.js';
import { PairTable, SCAN_MAX_SYMBOLS, mergeWordHeap, mergeWordScan } from './bpe-merge.js';
import { TokenizerError } from './errors.js';
import { preTokenEnd } from './pre-tokenize.js';

export interface SpecialToken {
  content: string;
  id: number;
}

/** Everything that defines a byte-level BPE tokenizer; what tokenizer.json stores. */
export interface BpeModel {
  /** id -> token: byte-level string for ordinary tokens, the literal content for specials. */
  vocab: string[];
  /** Merges in rank order, as pairs of byte-level token strings. */
  merges: Array<[string, string]>;
  specials: SpecialToken[];
}

export interface EncodeOptions {
  /** Match special tokens in the text: true for all, or a list of the allowed ones. Default none. */
  allowSpecial?: boolean | readonly string[];
  loneSurrogates?: LoneSurrogatePolicy;
}

export interface DecodeOptions {
  /** Drop special tokens instead of writing their content. */
  skipSpecial?: boolean;
}

/** Words (pre-tokens) longer than this are not cached: they are rare and would bloat the cache. */
const CACHE_MAX_WORD = 256;
/** The cache is dropped when it grows past this many words; cheap and good enough for corpora. */
const CACHE_MAX_ENTRIES = 200_000;

export class BpeTokenizer {
  readonly vocab: readonly string[];
  readonly merges: ReadonlyArray<readonly [string, string]>;
  readonly specials: readonly SpecialToken[];

  private readonly tokenToIdMap = new Map<string, number>();
  private readonly specialById = new Map<number, string>();
  /** Bytes of each ordinary token; null for specials. */
  private readonly tokenBytes: Array<Uint8Array | null>;
  private readonly byteToId = new Int32Array(256);
  private readonly pairs: PairTable;
  private readonly mergeId: Int32Array;
  private readonly specialRegexes = new Map<string, RegExp>();
  // The cache value is the single id for one-token words (most of them), else the id list.
  private readonly cache = new Map<string, number | Int32Array>();
  private readonly utf8 = { bytes: new Uint8Array(1024) };
  private sym = new Int32Array(1024);
  private ranks = new Int32Array(1024);
  private readonly textDecoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

  constructor(model: BpeModel) {
    this.vocab = model.vocab.slice();
    this.merges = model.merges.map(([a, b]) => [a, b] as const);
    this.specials = model.specials.map((s) => ({ ...s }));
    const n = this.vocab.length;

    for (const s of this.specials) {
      if (!Number.isInteger(s.id) || s.id < 0 || s.id >= n) {
        throw new TokenizerError(`special token ${JSON.stringify(s.content)} has id ${s.id}, outside 0..${n - 1}`);
      }
      if (s.content.length === 0) throw new TokenizerError(`special token with id ${s.id} is empty`);
      if (this.vocab[s.id] !== s.content) {
        throw new TokenizerError(
          `special token ${JSON.stringify(s.content)} has id ${s.id}, but the vocabulary has ` +
            `${JSON.stringify(this.vocab[s.id])} there`,
        );
      }
      this.specialById.set(s.id, s.content);
    }

    this.tokenBytes = new Array(n);
    for (let id = 0; id < n; id++) {
      const tok = this.vocab[id];
      if (typeof tok !== 'string') throw new TokenizerError(`the vocabulary has no token for id ${id}`);
      if (this.tokenToIdMap.has(tok)) {
        throw new TokenizerError(`token ${JSON.stringify(tok)} appears twice (ids ${this.tokenToIdMap.get(tok)} and ${id})`);
      }
      this.tokenToIdMap.set(tok, id);
      this.tokenBytes[id] = this.specialById.has(id) ? null : tokenStringToBytes(tok);
    }

    for (let b = 0; b < 256; b++) {
      const id = this.ordinaryId(BYTE_TO_CHAR[b]!);
      if (id === undefined) {
        throw new TokenizerError(`the vocabulary lacks the byte token for 0x${b.toString(16)} (${BYTE_TO_CHAR[b]})`);
      }
      this.byteToId[b] = id;
    }

    const idPairs: Array<[number, number]> = [];
    this.mergeId = new Int32Array(this.merges.length);
    this.merges.forEach(([a, b], rank) => {
      const ia = this.ordinaryId(a);
      const ib = this.ordinaryId(b);
      const im = this.tokenToIdMap.get(a + b);
      const where = `merge ${rank} (${JSON.stringify(a)} + ${JSON.stringify(b)})`;
      if (ia === undefined || ib === undefined) throw new TokenizerError(`${where}: a part is not an ordinary token`);
      if (im === undefined) throw new TokenizerError(`${where}: the result is not in the vocabulary`);
      if (this.specialById.has(im)) throw new TokenizerError(`${where}: the result is a special token`);
      idPairs.push([ia, ib]);
      this.mergeId[rank] = im;
    });
    this.pairs = new PairTable(idPairs);
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  tokenToId(token: string): number | undefined {
    return this.tokenToIdMap.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.vocab[id];
  }

  specialId(content: string): number {
    const s = this.specials.find((t) => t.content === content);
    if (!s) throw new TokenizerError(`no special token ${JSON.stringify(content)} in this tokenizer`);
    return s.id;
  }

  isSpecial(id: number): boolean {
    return this.specialById.has(id);
  }

  /** Text -> ids. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    text = checkWellFormed(text, options.loneSurrogates ?? 'error');
    const out: number[] = [];
    const specialRe = this.specialRegex(options.allowSpecial);
    if (!specialRe) {
      this.encodeOrdinary(text, out);
      return out;
    }
    specialRe.lastIndex = 0;
    let start = 0;
    for (let m = specialRe.exec(text); m !== null; m = specialRe.exec(text)) {
      if (m.index > start) this.encodeOrdinary(text.slice(start, m.index), out);
      out.push(this.tokenToIdMap.get(m[0])!);
      start = m.index + m[0].length;
    }
    if (start < text.length) this.encodeOrdinary(start === 0 ? text : text.slice(start), out);
    return out;
  }

  /** Ids -> text. Invalid UTF-8 (only from id sequences encode never makes) decodes to U+FFFD. */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    let buf = new Uint8Array(Math.max(64, ids.length * 4));
    let n = 0;
    let text = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const bytes = Number.isInteger(id) ? this.tokenBytes[id] : undefined;
      if (bytes === undefined) {
        throw new TokenizerError(`unknown token id ${id} at position ${i} (vocabulary size ${this.vocab.length})`);
      }
      if (bytes === null) {
        // Flush pending bytes first: a special splits the text, it is never inside a character.
        if (n > 0) text += this.textDecoder.decode(buf.subarray(0, n));
        n = 0;
        if (!options.skipSpecial) text += this.vocab[id]!;
        continue;
      }
      if (n + bytes.length > buf.length) {
        const grown = new Uint8Array((n + bytes.length) * 2);
        grown.set(buf.subarray(0, n));
        buf = grown;
      }
      buf.set(bytes, n);
      n += bytes.length;
    }
    if (n > 0) text += this.textDecoder.decode(buf.subarray(0, n));
    return text;
  }

  /** Byte-level token strings of an encoding, for display and debugging. */
  tokenize(text: string, options: EncodeOptions = {}): string[] {
    return this.encode(text, options).map((id) => this.vocab[id]!);
  }

  /** Ids of text with no special-token matching; appends to `out`. */
  private encodeOrdinary(text: string, out: number[]): void {
    const cache = this.cache;
    const n = text.length;
    for (let i = 0; i < n; ) {
      const end = preTokenEnd(text, i);
      const word = i === 0 && end === n ? text : text.slice(i, end);
      i = end;
      let ids = cache.get(word);
      if (ids === undefined) {
        ids = this.encodeWord(word);
        if (word.length <= CACHE_MAX_WORD) {
          if (cache.size >= CACHE_MAX_ENTRIES) cache.clear();
          cache.set(word, ids);
        }
      }
      if (typeof ids === 'number') out.push(ids);
      else for (let k = 0; k < ids.length; k++) out.push(ids[k]!);
    }
  }

  private encodeWord(word: string): number | Int32Array {
    const nBytes = utf8EncodeInto(word, this.utf8);
    if (this.sym.length < nBytes) {
      this.sym = new Int32Array(nBytes * 2);
      this.ranks = new Int32Array(nBytes * 2);
    }
    const sym = this.sym;
    const bytes = this.utf8.bytes;
    for (let i = 0; i < nBytes; i++) sym[i] = this.byteToId[bytes[i]!]!;
    const n =
      nBytes <= SCAN_MAX_SYMBOLS
        ? mergeWordScan(sym, nBytes, this.pairs, this.mergeId, this.ranks)
        : mergeWordHeap(sym, nBytes, this.pairs, this.mergeId);
    return n === 1 ? sym[0]! : sym.slice(0, n);
  }

  private ordinaryId(token: string): number | undefined {
    const id = this.tokenToIdMap.get(token);
    return id === undefined || this.specialById.has(id) ? undefined : id;
  }

  /** The compiled matcher for an allowSpecial option, built once per distinct set. */
  private specialRegex(allow: EncodeOptions['allowSpecial']): RegExp | null {
    if (!allow || this.specials.length === 0) return null;
    const list = allow === true ? this.specials.map((s) => s.content) : [...allow];
    if (list.length === 0) return null;
    const key = allow === true ? '\u0000all' : list.slice().sort().join('\u0000');
    let re = this.specialRegexes.get(key);
    if (!re) {
      for (const s of list) if (!this.specials.some((t) => t.content === s)) this.specialId(s);
      // Longest first, so `<mask:1>` wins over a hypothetical `<mask:`, as in HF's trie.
      const alternatives = list.sort((a, b) => b.length - a.length).map(escapeRegExp);
      re = new RegExp(alternatives.join('|'), 'g');
      this.specialRegexes.set(key, re);
    }
    return re;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
