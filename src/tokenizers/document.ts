/**
 * The mixed-modal document and its token layout (CM3leon, section 2):
 *
 *   caption <break> image <eos>          text-to-image pair
 *   image <break> caption <eos>          image-to-text pair
 *   doc1 <eos> doc2 <eos> query <eos>    retrieved documents, then the query document
 *   [<eos>] caption <break>              a prompt: the model continues with the image
 *
 * A Document is a list of segments, text or image. Every two consecutive segments are separated by
 * `<break>` (so two images in a row, as in editing, stay two images) and a document ends with
 * `<eos>`. Decoding is the exact inverse for what encoding makes, and strict about the rest: an
 * image part must have exactly grid*grid codes, a part must not mix text and image ids, and
 * specials other than <break>/<eos> are refused, each error naming the position.
 *
 * Deliberately not here: the CM3 masking objective (it rewrites id sequences with <mask:i> and
 * <infill>), images as pixels (the VQ tokenizer turns them into codes), batching and padding.
 */
import { TokenizerError } from './errors.js';
import { BREAK, EOS, type Vocabulary } from './vocabulary.js';

export interface TextSegment {
  kind: 'text';
  /** Non-empty: an empty text has no tokens and could not be told apart when decoding. */
  text: string;
}

export interface ImageSegment {
  kind: 'image';
  /** Codebook indices, row-major, exactly grid*grid of them. */
  codes: Int32Array;
}

export type Segment = TextSegment | ImageSegment;
export type Document = Segment[];

/** What documents need from a text tokenizer: BpeTokenizer fits (its ids are global ids). */
export interface TextCodec {
  /** Must not turn any text into special tokens (BpeTokenizer does not unless asked). */
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
}

export function textSegment(text: string): TextSegment {
  return { kind: 'text', text };
}

export function imageSegment(codes: ArrayLike<number>): ImageSegment {
  return { kind: 'image', codes: Int32Array.from(codes) };
}

/** How a sequence of documents ends. 'break': the last one is a prompt for its next segment. */
export type DocumentEnd = 'eos' | 'break' | 'none';

export interface EncodeDocumentsOptions {
  /** Start with `<eos>`, as the paper's zero-shot prompts do. Default false. */
  leadingEos?: boolean;
  /** How the last document ends; the others always end with `<eos>`. Default 'eos'. */
  end?: DocumentEnd;
}

/** Decoded ids: complete documents, then what follows the last `<eos>`, if anything. */
export interface DecodedDocuments {
  documents: Document[];
  /** Segments after the last `<eos>` (an unfinished document or a prompt), else null. */
  open: Document | null;
  /** True when the ids end with `<break>`: the next segment is expected. */
  endsWithBreak: boolean;
}

export class DocumentCodec {
  private readonly eos: number;
  private readonly brk: number;

  constructor(
    readonly text: TextCodec,
    readonly vocab: Vocabulary,
  ) {
    this.eos = vocab.specialId(EOS);
    this.brk = vocab.specialId(BREAK);
    const size = (text as { vocabSize?: unknown }).vocabSize;
    if (typeof size === 'number' && size !== vocab.imageStart) {
      throw new TokenizerError(
        `the text tokenizer has ${size} ids but the vocabulary's text range ends at ${vocab.imageStart}`,
      );
    }
  }

  /** One document -> ids, ending as `end` says (default `<eos>`). */
  encode(doc: Document, end: DocumentEnd = 'eos'): Int32Array {
    return this.encodeMany([doc], { end });
  }

  /** Documents -> one id sequence. */
  encodeMany(docs: readonly Document[], options: EncodeDocumentsOptions = {}): Int32Array {
    const out: number[] = [];
    if (options.leadingEos) out.push(this.eos);
    docs.forEach((doc, d) => {
      const where = docs.length > 1 ? `document ${d}, ` : '';
      this.validate(doc, where);
      doc.forEach((seg, s) => {
        if (s > 0) out.push(this.brk);
        if (seg.kind === 'text') this.pushText(seg.text, out, `${where}segment ${s}`);
        else for (let i = 0; i < seg.codes.length; i++) out.push(this.vocab.imageStart + seg.codes[i]!);
      });
      const end = d === docs.length - 1 ? (options.end ?? 'eos') : 'eos';
      if (end === 'eos') out.push(this.eos);
      else if (end === 'break') out.push(this.brk);
    });
    return Int32Array.from(out);
  }

  /**
   * A generation prompt: context documents (e.g. retrieved ones), each ending with `<eos>`, then
   * the prompt's segments and a `<break>`, so the model produces the next segment.
   */
  encodePrompt(context: readonly Document[], prompt: Document, options: { leadingEos?: boolean } = {}): Int32Array {
    return this.encodeMany([...context, prompt], { leadingEos: options.leadingEos ?? false, end: 'break' });
  }

  /** Ids that hold exactly one complete document (ending with `<eos>`) -> that document. */
  decodeOne(ids: ArrayLike<number>): Document {
    const r = this.decode(ids);
    if (r.open !== null || r.documents.length !== 1) {
      throw new TokenizerError(
        `expected exactly one document ending with <eos>, found ${r.documents.length} complete` +
          (r.open ? ' and an unfinished one' : ''),
      );
    }
    return r.documents[0]!;
  }

  /**
   * Ids -> documents. Throws a TokenizerError naming the position of the first problem.
   * `leadingEos`: the ids start with an `<eos>` that opens rather than closes (see encodeMany).
   */
  decode(ids: ArrayLike<number>, options: { leadingEos?: boolean } = {}): DecodedDocuments {
    const documents: Document[] = [];
    let doc: Document = [];
    let start = 0;
    if (options.leadingEos) {
      if (ids.length === 0 || ids[0] !== this.eos) throw new TokenizerError('expected <eos> at position 0');
      start = 1;
    }
    let partStart = start;
    let afterBreak = false;
    for (let i = start; i < ids.length; i++) {
      const id = ids[i]!;
      if (id !== this.eos && id !== this.brk) {
        if (this.vocab.isTextId(id) || this.vocab.isImageId(id)) continue;
        if (!Number.isInteger(id) || id < 0 || id >= this.vocab.size) {
          throw new TokenizerError(`unknown token id ${id} at position ${i}: the vocabulary has ids 0..${this.vocab.size - 1}`);
        }
        throw new TokenizerError(
          `unexpected ${this.vocab.describe(id)} at position ${i}: documents hold only text, images, <break> and <eos>`,
        );
      }
      // A part (one segment) ends here.
      if (i > partStart) doc.push(this.decodePart(ids, partStart, i));
      else if (id === this.brk || afterBreak) {
        const prev = afterBreak ? '<break>' : 'the start of a document';
        throw new TokenizerError(`empty segment at position ${i}: ${id === this.brk ? '<break>' : '<eos>'} right after ${prev}`);
      }
      afterBreak = id === this.brk;
      if (id === this.eos) {
        documents.push(doc);
        doc = [];
      }
      partStart = i + 1;
    }
    if (ids.length > partStart) doc.push(this.decodePart(ids, partStart, ids.length));
    const endsWithBreak = afterBreak && partStart === ids.length;
    const open = doc.length > 0 ? doc : null;
    return { documents, open, endsWithBreak };
  }

  /** Throws unless the document encodes losslessly; `where` prefixes the message. */
  validate(doc: Document, where = ''): void {
    if (!Array.isArray(doc)) throw new TokenizerError(`${where}a document must be a list of segments`);
    doc.forEach((seg: Segment, s) => {
      const at = `${where}segment ${s}`;
      if (seg?.kind === 'text') {
        if (typeof seg.text !== 'string' || seg.text.length === 0) {
          throw new TokenizerError(`${at}: text must be a non-empty string`);
        }
      } else if (seg?.kind === 'image') {
        const g = this.vocab.imageGrid;
        const codes = seg.codes;
        if (!(codes instanceof Int32Array)) throw new TokenizerError(`${at}: image codes must be an Int32Array`);
        if (codes.length !== g * g) {
          throw new TokenizerError(`${at}: image has ${codes.length} codes, expected ${g * g} (a ${g}x${g} grid)`);
        }
        const n = this.vocab.imageCodebookSize;
        for (let i = 0; i < codes.length; i++) {
          const c = codes[i]!;
          if (c < 0 || c >= n) {
            throw new TokenizerError(`${at}: image code ${c} at index ${i} (row ${Math.floor(i / g)}, column ${i % g}) is outside the codebook 0..${n - 1}`);
          }
        }
      } else {
        throw new TokenizerError(`${at}: kind must be 'text' or 'image', got ${JSON.stringify((seg as { kind?: unknown })?.kind)}`);
      }
    });
  }

  private pushText(text: string, out: number[], where: string): void {
    let ids: number[];
    try {
      ids = this.text.encode(text);
    } catch (e) {
      if (e instanceof TokenizerError) throw new TokenizerError(`${where}: ${e.message}`);
      throw e;
    }
    for (const id of ids) {
      if (!this.vocab.isTextId(id)) {
        throw new TokenizerError(`${where}: the text tokenizer gave ${this.vocab.describe(id)}, outside the text range`);
      }
      out.push(id);
    }
  }

  private decodePart(ids: ArrayLike<number>, start: number, end: number): Segment {
    const first = ids[start]!;
    const isImage = this.vocab.isImageId(first);
    for (let i = start + 1; i < end; i++) {
      if (this.vocab.isImageId(ids[i]!) !== isImage) {
        throw new TokenizerError(
          `segment at positions ${start}..${end - 1} mixes text and image tokens (${this.vocab.describe(ids[i]!)} at position ${i}); a <break> must separate them`,
        );
      }
    }
    if (!isImage) {
      const slice = Array.prototype.slice.call(ids, start, end) as number[];
      return { kind: 'text', text: this.text.decode(slice) };
    }
    const n = end - start;
    const g = this.vocab.imageGrid;
    if (n !== g * g) {
      throw new TokenizerError(`image segment at positions ${start}..${end - 1} has ${n} codes, expected ${g * g} (a ${g}x${g} grid)`);
    }
    const codes = new Int32Array(n);
    for (let i = 0; i < n; i++) codes[i] = ids[start + i]! - this.vocab.imageStart;
    return { kind: 'image', codes };
  }
}
