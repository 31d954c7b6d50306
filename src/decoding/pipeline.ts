/**
 * The inference pipeline a user calls: load a trained CM3leon directory (decoder checkpoint +
 * `cm3leon.json` naming its text and image tokenizers), then text-to-image and captioning with the
 * paper's document layout: text-to-image continues `<eos> caption <break>` with exactly one image
 * span; captioning continues `<eos> image <break>` with text up to `<eos>`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RgbImage } from '../data/index.js';
import { loadDecoder } from '../model/checkpoint.js';
import type { Decoder } from '../model/decoder.js';
import { imageSegment, textSegment, type Document } from '../tokenizers/document.js';
import { MultimodalTokenizer } from '../tokenizers/multimodal.js';
import { generateImageCodes, generateImageCodesAsync, generateText, generateTextAsync, type ImageSpan, type GenerateOptions, type TextOptions } from './generate.js';
import * as T from '../tensor/index.js';
import { allowRange, forbid } from './sampling.js';

export const MODEL_INFO = 'cm3leon.json';

export interface ModelInfo {
  /** Paths relative to the model directory. */
  textTokenizer: string;
  imageTokenizer: string;
  preset?: string;
  trainedWith?: string;
}

export class Cm3leon {
  constructor(readonly model: Decoder, readonly tok: MultimodalTokenizer, readonly dir = '') {}

  /**
   * Loads a model directory. `backend` (default: the current default backend) places the decoder
   * there, e.g. 'webgpu' after `await selectDevice('webgpu')`; the tokenizers stay on the CPU.
   * A decoder on WebGPU needs the async methods (generateImageAsync, captionAsync).
   */
  static load(dir: string, o: { backend?: string } = {}): Cm3leon {
    const infoPath = join(dir, MODEL_INFO);
    if (!existsSync(infoPath)) throw new Error(`model ${dir}: no ${MODEL_INFO} (is this a cm3leon model directory?)`);
    let info: ModelInfo;
    try {
      info = JSON.parse(readFileSync(infoPath, 'utf8')) as ModelInfo;
    } catch (err) {
      throw new Error(`model ${dir}: ${MODEL_INFO} is not valid JSON (${(err as Error).message})`);
    }
    const base = resolve(dir);
    const tok = MultimodalTokenizer.load(resolve(base, info.textTokenizer), resolve(base, info.imageTokenizer));
    const previous = T.getBackend().name;
    if (o.backend) T.setBackend(o.backend);
    let model: Decoder;
    try {
      model = loadDecoder(dir);
    } finally {
      T.setBackend(previous);
    }
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
    const codes = generateImageCodes(this.model, r.prompt, r.span, r.options);
    return { image: this.tok.image.decode([codes])[0]!, codes };
  }

  /** generateImage for a decoder on any backend (WebGPU included); the same image for the same seed. */
  async generateImageAsync(caption: string, o: ImageOptions = {}): Promise<{ image: RgbImage; codes: Int32Array }> {
    const r = this.imageRequest(caption, o);
    const codes = await generateImageCodesAsync(this.model, r.prompt, r.span, r.options);
    return { image: this.tok.image.decode([codes])[0]!, codes };
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

  /** Captions an image: `<eos> image <break>` then text until `<eos>`. Decoder on a CPU backend. */
  caption(image: RgbImage, o: GenerateOptions & { maxTokens?: number } = {}): string {
    const r = this.captionRequest(image, o);
    return this.tok.text.decode(generateText(this.model, r.prompt, r.options));
  }

  /** caption for a decoder on any backend. */
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
};
