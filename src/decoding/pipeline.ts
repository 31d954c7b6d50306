/**
 * The inference pipeline a user calls: load a trained CM3leon directory (decoder checkpoint +
 * `cm3leon.json` naming its text and image tokenizers), then text-to-image and captioning with the
 * paper's document layout: text-to-image continues `<eos> caption <break>` with exactly one image
 * span; captioning continues `<eos> image <break>` with text up to `<eos>`.
 *
 * Guidance runs the caption's stream and the unconditional stream as one batch; generateImages runs
 * many captions (each with its guidance stream) as one batch, with the codes each gets alone.
 * Streaming: onToken(id, index, row) for every code, onPartialImage for previews while codes come.
 */
import { fileURLToPath } from 'node:url';
import { resolveDevice, type DeviceName } from '../backends/index.js';
import { readImage, type RgbImage } from '../data/index.js';
import type { ClipEncoder } from '../retrieval/clip-encoder.js';
import { loadDecoder } from '../model/checkpoint.js';
import { readModelInfo, MODEL_INFO } from '../model/model-dir.js';
import type { Decoder } from '../model/decoder.js';
import { imageSegment, textSegment, type Document } from '../tokenizers/document.js';
import { MultimodalTokenizer } from '../tokenizers/multimodal.js';
import { generateImageBatch, generateImageBatchAsync, generateImageCodes, generateImageCodesAsync, generateText, generateTextAsync, type ImageRequest, type ImageSpan, type GenerateOptions, type TextOptions } from './generate.js';
import type { RetrievedDocument } from '../retrieval/retriever.js';
import { allowRange, forbid } from './sampling.js';

export { MODEL_INFO, type ModelInfo } from '../model/model-dir.js';

/** The shipped model (`models/cm3leon-small` in the package): what `Cm3leon.load()` loads. */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../../../models/cm3leon-small', import.meta.url));

export interface LoadOptions {
  /** Where the decoder runs: 'cpu' (default), 'webgpu', or 'auto' (WebGPU when an adapter exists). */
  device?: DeviceName;
}

/** An image to caption: decoded pixels, an image file's path, or its bytes. */
export type ImageInput = RgbImage | string | Uint8Array;

export class Cm3leon {
  constructor(readonly model: Decoder, readonly tok: MultimodalTokenizer, readonly dir = '') {}

  /**
   * Loads a model directory (default: the shipped model) with its decoder on `device`; the
   * tokenizers stay on the CPU. The process-wide default backend is not changed.
   */
  static async load(dir: string = DEFAULT_MODEL_DIR, o: LoadOptions = {}): Promise<Cm3leon> {
    const backend = await resolveDevice(o.device ?? 'cpu');
    return Cm3leon.loadSync(dir, { backend: backend.name });
  }

  /**
   * Cm3leon.load without device set-up: `backend` names a backend already up (default 'cpu').
   * A decoder on WebGPU needs the async methods (generate, caption, generateImageAsync, ...).
   */
  static loadSync(dir: string = DEFAULT_MODEL_DIR, o: { backend?: string } = {}): Cm3leon {
    const info = readModelInfo(dir);
    const tok = MultimodalTokenizer.load(info.textTokenizer, info.imageTokenizer);
    const codes = tok.image.codesVersion;
    if (info.imageTokenizerCodes !== undefined && info.imageTokenizerCodes !== codes) {
      throw new Error(`model ${dir} was trained on the codes of image tokenizer ${info.imageTokenizerCodes}, but ${info.imageTokenizer} (${MODEL_INFO}) makes ${codes}: `
        + 'its pictures would be nonsense. Point imageTokenizer at the tokenizer it was trained with, or retrain the model on this one (cm3leon train)');
    }
    // Built on the CPU, where the checkpoint's bytes are, then moved as a whole.
    const model = loadDecoder(dir).moveTo(o.backend ?? 'cpu');
    if (model.config.vocabSize !== tok.vocab.size) {
      throw new Error(`model ${dir}: the decoder has ${model.config.vocabSize} ids but its tokenizers make ${tok.vocab.size}`);
    }
    return new Cm3leon(model, tok, dir);
  }

  /**
   * Prompt ids for text-to-image: `<eos> caption <break>`, or with retrieved documents (each
   * `text <break> image`) in front: `<eos> doc1 <eos> doc2 <eos> caption <break>`.
   */
  imagePrompt(caption: string, context: readonly Document[] = []): Int32Array {
    if (caption.trim() === '') throw new Error('generate: the caption is empty');
    return this.tok.codec.encodePrompt(context, [textSegment(caption)], { leadingEos: true });
  }

  /**
   * The unconditional stream's prompt: the caption replaced by `<mask>`: `<eos> <mask> <break>`.
   * Retrieved documents stay in front, so guidance strengthens the caption, not the retrieval.
   */
  unconditionalPrompt(context: readonly Document[] = []): Int32Array {
    const ids = this.tok.ids;
    const prefix = context.length ? this.tok.codec.encodeMany(context, { leadingEos: true }) : Int32Array.of(ids.eos);
    return Int32Array.from([...prefix, ids.mask, ids.brk]);
  }

  private imageRequest(caption: string, o: ImageOptions): { prompt: Int32Array; span: ImageSpan; options: GenerateOptions } {
    const v = this.tok.vocab;
    const { cfg, cdk, context, ...rest } = o;
    const guidance = cfg !== undefined || cdk !== undefined ? { uncondPrompt: this.unconditionalPrompt(context), cfg, cdk } : undefined;
    const prompt = this.imagePrompt(caption, context);
    if (prompt.length + this.tok.imageLength > this.model.config.maxPositions) {
      throw new Error(`generate: the prompt (${prompt.length} tokens with ${context?.length ?? 0} retrieved documents) and an image of ${this.tok.imageLength} codes exceed the model's ${this.model.config.maxPositions} positions`);
    }
    return { prompt, span: { imageStart: v.imageStart, codebookSize: v.imageCodebookSize, length: this.tok.imageLength }, options: { ...rest, guidance } };
  }

  /** Generates one image for a caption; `cfg` or `cdk` turn on guidance against the unconditional stream. Decoder on a CPU backend. */
  generateImage(caption: string, o: ImageOptions = {}): { image: RgbImage; codes: Int32Array } {
    const r = this.imageRequest(caption, o);
    const codes = generateImageCodes(this.model, r.prompt, r.span, { ...r.options, onToken: this.streaming(o, 1) });
    return { image: this.tok.image.decode([codes])[0]!, codes };
  }

  /** generateImage for a decoder on any backend (WebGPU included); the same image for the same seed. */
  async generateImageAsync(caption: string, o: ImageOptions = {}): Promise<{ image: RgbImage; codes: Int32Array }> {
    const r = this.imageRequest(caption, o);
    const codes = await generateImageCodesAsync(this.model, r.prompt, r.span, { ...r.options, onToken: this.streaming(o, 1) });
    return { image: this.tok.image.decode([codes])[0]!, codes };
  }

  /**
   * One image per caption, all generated as one batch (each caption and, under guidance, its
   * unconditional stream is a row: up to 2N rows, one forward per step). Caption i uses seed
   * (o.seed ?? 0) + i, so the same caption N times gives the images of seeds seed..seed+N-1, each
   * what generateImage gives with that seed. onToken and onPartialImage get the caption's index as
   * `row`. Decoder on a CPU backend.
   */
  generateImages(captions: readonly string[], o: ImageOptions = {}): { image: RgbImage; codes: Int32Array }[] {
    const b = this.imageBatch(captions, o);
    const codes = generateImageBatch(this.model, b.requests, b.span, b.options);
    const images = this.tok.image.decode(codes);
    return codes.map((c, i) => ({ image: images[i]!, codes: c }));
  }

  /** generateImages for a decoder on any backend (WebGPU included); the same images for the same seed. */
  async generateImagesAsync(captions: readonly string[], o: ImageOptions = {}): Promise<{ image: RgbImage; codes: Int32Array }[]> {
    const b = this.imageBatch(captions, o);
    const codes = await generateImageBatchAsync(this.model, b.requests, b.span, b.options);
    const images = this.tok.image.decode(codes);
    return codes.map((c, i) => ({ image: images[i]!, codes: c }));
  }

  /** Each caption's imageRequest, seeded seed + i; the streaming callbacks go on the batch. */
  private imageBatch(captions: readonly string[], o: ImageOptions): { requests: ImageRequest[]; span: ImageSpan; options: GenerateOptions } {
    if (!Array.isArray(captions) || captions.length === 0) throw new Error('generate: give at least one caption');
    const base = o.seed ?? 0;
    const requests = captions.map((caption, i) => {
      const r = this.imageRequest(caption, o);
      const { onToken: _ignored, ...options } = r.options;
      return { prompt: r.prompt, ...options, seed: base + i };
    });
    return { requests, span: this.imageSpan(), options: { onToken: this.streaming(o, captions.length) } };
  }

  private imageSpan(): ImageSpan {
    const v = this.tok.vocab;
    return { imageStart: v.imageStart, codebookSize: v.imageCodebookSize, length: this.tok.imageLength };
  }

  /**
   * The onToken to pass down: the caller's, and when `onPartialImage` is set, one that also keeps
   * each row's codes and hands out a preview every `partialEvery` codes (default: one grid row)
   * and at the last code.
   */
  private streaming(o: ImageOptions, rows: number): GenerateOptions['onToken'] {
    const { onToken, onPartialImage } = o;
    if (!onPartialImage) return onToken;
    if (typeof onPartialImage !== 'function') throw new Error('generate: onPartialImage must be a function');
    const n = this.tok.imageLength;
    const every = o.partialEvery ?? this.tok.grid;
    if (!Number.isInteger(every) || every < 1) throw new Error(`generate: partialEvery must be a positive integer (codes between previews), got ${every}`);
    const start = this.tok.vocab.imageStart;
    const codes = Array.from({ length: rows }, () => new Int32Array(n));
    return (id, index, row) => {
      onToken?.(id, index, row);
      codes[row]![index] = id - start;
      const done = index + 1;
      if (done % every === 0 || done === n) onPartialImage({ row, codes: codes[row]!.slice(0, done), image: this.partialImage(codes[row]!.subarray(0, done)) });
    };
  }

  /**
   * The image of a partial code grid (row-major, the first codes.length cells): the missing cells
   * are decoded as code 0 and then painted gray. A preview: the VQ decoder is convolutional, so
   * cells next to missing ones differ a little from the final image.
   */
  partialImage(codes: ArrayLike<number>): RgbImage {
    const g = this.tok.grid;
    const grid = new Int32Array(g * g);
    grid.set(Array.from(codes).slice(0, g * g));
    const image = this.tok.image.decode([grid])[0]!;
    const cell = image.width / g;
    for (let c = codes.length; c < g * g; c++) {
      const [y0, x0] = [Math.floor(c / g) * cell, (c % g) * cell];
      for (let y = y0; y < y0 + cell; y++) image.rgb.fill(128, (y * image.width + x0) * 3, (y * image.width + x0 + cell) * 3);
    }
    return image;
  }

  /** `<eos> image <break>` and the text-only constraints of captioning. */
  private captionRequest(image: RgbImage, o: GenerateOptions & { maxTokens?: number }): { prompt: Int32Array; options: TextOptions } {
    const codes = this.tok.image.encode([image])[0]!;
    const prompt = this.tok.codec.encodePrompt([], [imageSegment(codes)], { leadingEos: true });
    const ids = this.tok.ids;
    const v = this.tok.vocab;
    return {
      prompt,
      options: {
        ...o,
        maxTokens: o.maxTokens ?? 48,
        stop: [ids.eos, ids.brk],
        forbidden: (logits) => {
          // Text only: no image codes, and of the specials only the stops.
          allowRange(logits, 0, v.imageStart);
          forbid(logits, [ids.pad, ids.mask, ids.infill, ...ids.sentinels]);
          for (let i = 0; i < v.textStart; i++) if (i !== ids.eos && i !== ids.brk) logits[i] = -Infinity;
        },
      },
    };
  }

  /**
   * Text-to-image on any backend: one image for the caption (seed o.seed ?? 0; temperature 1 and
   * top-p 0.9 unless given, as on the command line), with `retrieve`
   * documents retrieved for the caption first (`bank`, default: the installed datasets' bank built
   * on first use; `encoder`, default: the shipped bi-encoder) and prepended as context.
   */
  async generate(caption: string, o: GenerateImageOptions = {}): Promise<GeneratedImage> {
    // The command line's defaults (temperature 1, nucleus 0.9), so the API and `cm3leon generate` agree.
    const { retrieve, bank, encoder, ...rest } = { temperature: 1, topP: 0.9, ...o };
    const retrieved = retrieve ? await this.retrieve(caption, retrieve, { bank, encoder }) : [];
    const { contextDocuments } = await import('./retrieval-context.js');
    const context = [...(rest.context ?? []), ...contextDocuments(retrieved)];
    const r = await this.generateImageAsync(caption, { ...rest, context });
    return { ...r, seed: rest.seed ?? 0, retrieved };
  }

  /** generateSamples (samples.ts): several seeds, a CFG/CD-K mixture, batching, CLIP reranking. */
  async generateSamples(caption: string, o: import('./samples.js').SampleOptions = {}): Promise<import('./samples.js').Sample[]> {
    const { generateSamples } = await import('./samples.js');
    return generateSamples(this, caption, o);
  }

  /** Documents for a caption from a memory bank, by the bi-encoder and the paper's rules (see retrieval-context.ts). */
  async retrieve(caption: string, k: number, o: { bank?: string; encoder?: ClipEncoder | string } = {}): Promise<RetrievedDocument[]> {
    const { retrieveDocuments } = await import('./retrieval-context.js');
    return retrieveDocuments(caption, k, { ...o, tok: this.tok });
  }

  /** Captions an image (pixels, a file path or file bytes) on any backend: greedy by default. */
  async caption(image: ImageInput, o: GenerateOptions & { maxTokens?: number } = {}): Promise<string> {
    return this.captionAsync(await this.readInput(image), { temperature: 0, ...o });
  }

  /** Files and bytes through the one image reader (any format, centre-cropped to the tokenizer's size). */
  private async readInput(image: ImageInput): Promise<RgbImage> {
    if (typeof image === 'string' || image instanceof Uint8Array) return readImage(image, { size: this.tok.image.imageSize });
    return image;
  }

  /** Captions an image: `<eos> image <break>` then text until `<eos>`. Decoder on a CPU backend. */
  captionSync(image: RgbImage, o: GenerateOptions & { maxTokens?: number } = {}): string {
    const r = this.captionRequest(image, o);
    return this.tok.text.decode(generateText(this.model, r.prompt, r.options));
  }

  /** captionSync for a decoder on any backend. */
  async captionAsync(image: RgbImage, o: GenerateOptions & { maxTokens?: number } = {}): Promise<string> {
    const r = this.captionRequest(image, o);
    return this.tok.text.decode(await generateTextAsync(this.model, r.prompt, r.options));
  }
}

export type ImageOptions = Omit<GenerateOptions, 'guidance'> & {
  cfg?: number;
  cdk?: { k: number; alpha: number };
  /** Retrieved documents to prepend (retrieval-augmented generation). */
  context?: readonly Document[];
  /**
   * Streaming previews: called every `partialEvery` codes (default: one grid row) and at the last
   * code with the codes so far and their image (Cm3leon.partialImage: cells not generated yet are
   * gray). Each call runs the VQ decoder once.
   */
  onPartialImage?: (p: PartialImage) => void;
  partialEvery?: number;
};

export type GenerateImageOptions = ImageOptions & {
  /** Retrieve this many documents (1 or 2) for the caption and prepend them. */
  retrieve?: number;
  /** The memory bank to retrieve from (a directory, `cm3leon index build`). */
  bank?: string;
  /** The bi-encoder (or its directory) that retrieves; default the shipped one. */
  encoder?: ClipEncoder | string;
};

export interface GeneratedImage {
  image: RgbImage;
  /** Codebook indices, row-major over the grid. */
  codes: Int32Array;
  seed: number;
  /** The documents prepended, in order (empty without `retrieve`). */
  retrieved: RetrievedDocument[];
}

export interface PartialImage {
  /** The caption's index in generateImages (0 for generateImage). */
  row: number;
  /** The codes generated so far (codebook indices, row-major over the grid). */
  codes: Int32Array;
  image: RgbImage;
}
