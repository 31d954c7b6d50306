/**
 * The model's one id space, in three consecutive ranges:
 *
 *   [0, S)            special tokens: <pad> <eos> <break> <mask> <infill> <mask:0>..<mask:K-1>,
 *                     then <reserved:i> slots so later specials never shift the other ids
 *   [S, S+T)          text: the byte-level BPE tokens (256 bytes, then merges)
 *   [S+T, S+T+N)      image: the N codes of the image tokenizer's codebook
 *
 * The text tokenizer's own ids (its tokenizer.json) are these global ids: its specials are the
 * first S entries, so ids from other tools need no translation. An image is grid*grid codes.
 *
 * Deliberately not here: encoding text or images (bpe.ts, the VQ tokenizer), documents
 * (document.ts). A Vocabulary is plain data: toJSON/fromJSON round-trip it.
 */
import { TokenizerError } from './errors.js';

export const PAD = '<pad>';
export const EOS = '<eos>';
export const BREAK = '<break>';
export const MASK = '<mask>';
export const INFILL = '<infill>';

/** `<mask:i>`: the sentinel that stands for the i-th masked span in the CM3 objective. */
export function maskSentinel(i: number): string {
  return `<mask:${i}>`;
}

export interface SpecialTokenOptions {
  /** Numbered mask sentinels; the paper clamps the span count to 16. */
  maskSentinels?: number;
  /** Total special slots, the rest filled with `<reserved:i>`. */
  slots?: number;
}

/** CM3leon's special tokens in id order; `<pad>` is 0 so zero-filled buffers are padding. */
export function cm3leonSpecialTokens(options: SpecialTokenOptions = {}): string[] {
  const k = options.maskSentinels ?? 16;
  const slots = options.slots ?? 32;
  const named = [PAD, EOS, BREAK, MASK, INFILL];
  for (let i = 0; i < k; i++) named.push(maskSentinel(i));
  if (named.length > slots) throw new TokenizerError(`${named.length} special tokens do not fit in ${slots} slots`);
  for (let i = 0; named.length < slots; i++) named.push(`<reserved:${i}>`);
  return named;
}

export type TokenKind = 'special' | 'text' | 'image';

export interface VocabularyConfig {
  /** Special tokens, ids 0..S-1. */
  specials: string[];
  /** Number of (non-special) text tokens T. */
  textTokens: number;
  /** Image codebook size N. */
  imageCodebookSize: number;
  /** Image side in tokens; an image is imageGrid * imageGrid codes. */
  imageGrid: number;
}

export class Vocabulary {
  readonly specials: readonly string[];
  readonly textTokens: number;
  readonly imageCodebookSize: number;
  readonly imageGrid: number;
  /** First id of each range, and the total size. */
  readonly textStart: number;
  readonly imageStart: number;
  readonly size: number;
  private readonly specialIds: ReadonlyMap<string, number>;

  constructor(config: VocabularyConfig) {
    const { specials, textTokens, imageCodebookSize, imageGrid } = config;
    const count = (name: string, v: unknown, min: number) => {
      if (!Number.isInteger(v) || (v as number) < min) {
        throw new TokenizerError(`vocabulary: ${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
      }
    };
    if (!Array.isArray(specials) || specials.some((s) => typeof s !== 'string' || s.length === 0)) {
      throw new TokenizerError('vocabulary: specials must be a list of non-empty strings');
    }
    count('textTokens', textTokens, 256);
    count('imageCodebookSize', imageCodebookSize, 0);
    count('imageGrid', imageGrid, 1);
    this.specials = [...specials];
    this.specialIds = new Map(this.specials.map((s, i) => [s, i]));
    if (this.specialIds.size !== this.specials.length) throw new TokenizerError('vocabulary: special tokens must be distinct');
    for (const required of [PAD, EOS, BREAK]) {
      if (!this.specialIds.has(required)) throw new TokenizerError(`vocabulary: the special token ${required} is missing`);
    }
    this.textTokens = textTokens;
    this.imageCodebookSize = imageCodebookSize;
    this.imageGrid = imageGrid;
    this.textStart = this.specials.length;
    this.imageStart = this.textStart + textTokens;
    this.size = this.imageStart + imageCodebookSize;
  }

  /** The layout for a text tokenizer whose first ids are exactly `specials` (as trainBpe makes). */
  static forTokenizer(
    tokenizer: { vocabSize: number; specials: ReadonlyArray<{ content: string; id: number }> },
    image: { codebookSize: number; grid: number },
  ): Vocabulary {
    const specials = [...tokenizer.specials].sort((a, b) => a.id - b.id);
    specials.forEach((s, i) => {
      if (s.id !== i) {
        throw new TokenizerError(
          `vocabulary: the text tokenizer's special tokens must take ids 0..${specials.length - 1}, but ${s.content} has id ${s.id}`,
        );
      }
    });
    return new Vocabulary({
      specials: specials.map((s) => s.content),
      textTokens: tokenizer.vocabSize - specials.length,
      imageCodebookSize: image.codebookSize,
      imageGrid: image.grid,
    });
  }

  static fromJSON(json: unknown): Vocabulary {
    if (typeof json !== 'object' || json === null) throw new TokenizerError('vocabulary: not a JSON object');
    const o = json as Record<string, unknown>;
    // Unknown keys are dropped, missing ones fail in the constructor by name.
    return new Vocabulary({
      specials: o['specials'] as string[],
      textTokens: o['textTokens'] as number,
      imageCodebookSize: o['imageCodebookSize'] as number,
      imageGrid: o['imageGrid'] as number,
    });
  }

  toJSON(): VocabularyConfig {
    return {
      specials: [...this.specials],
      textTokens: this.textTokens,
      imageCodebookSize: this.imageCodebookSize,
      imageGrid: this.imageGrid,
    };
  }

  /** Codes per image. */
  get imageTokens(): number {
    return this.imageGrid * this.imageGrid;
  }

  /** Id of a special token by name; throws for a name this vocabulary lacks. */
  specialId(name: string): number {
    const id = this.specialIds.get(name);
    if (id === undefined) throw new TokenizerError(`vocabulary has no special token ${name}`);
    return id;
  }

  hasSpecial(name: string): boolean {
    return this.specialIds.has(name);
  }

  /** Which range an id is in; throws for ids outside the vocabulary. */
  kindOf(id: number): TokenKind {
    this.checkId(id);
    return id < this.textStart ? 'special' : id < this.imageStart ? 'text' : 'image';
  }

  /** Global id -> (kind, index within that kind's range). */
  toLocal(id: number): { kind: TokenKind; local: number } {
    const kind = this.kindOf(id);
    const start = kind === 'special' ? 0 : kind === 'text' ? this.textStart : this.imageStart;
    return { kind, local: id - start };
  }

  /** (kind, local index) -> global id. */
  toGlobal(kind: TokenKind, local: number): number {
    const [start, n] =
      kind === 'special' ? [0, this.specials.length] : kind === 'text' ? [this.textStart, this.textTokens] : [this.imageStart, this.imageCodebookSize];
    if (!Number.isInteger(local) || local < 0 || local >= n) {
      throw new TokenizerError(`${kind} index ${local} is out of range 0..${n - 1}`);
    }
    return start + local;
  }

  /** Image code -> global id. */
  imageId(code: number): number {
    return this.toGlobal('image', code);
  }

  isImageId(id: number): boolean {
    return Number.isInteger(id) && id >= this.imageStart && id < this.size;
  }

  isTextId(id: number): boolean {
    return Number.isInteger(id) && id >= this.textStart && id < this.imageStart;
  }

  /** Readable name of an id, for error messages and debugging. */
  describe(id: number): string {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) return `id ${id}`;
    const { kind, local } = this.toLocal(id);
    return kind === 'special' ? this.specials[local]! : `${kind} token ${local} (id ${id})`;
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) {
      throw new TokenizerError(`unknown token id ${id}: the vocabulary has ids 0..${this.size - 1}`);
    }
  }
}
