/**
 * The trained bi-encoder as a `BiEncoder`: a ClipModel plus the BPE text tokenizer it reads, saved
 * as a directory (config.json naming the tokenizer relative to it, model.safetensors, a model card).
 * Its id's version is a hash of the config and the weights, so a memory bank built with other
 * weights is refused (memory-bank.ts). Embedding runs in chunks under noGrad on the CPU backend.
 * Not here: training (src/train/bi-encoder.ts).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { RgbImage } from '../data/image.js';
import { loadSafetensors, saveSafetensors, weightsHash, writeFileAtomic } from '../nn/index.js';
import { noGrad, tensor, tidy, type Tensor } from '../tensor/index.js';
import type { BpeTokenizer } from '../tokenizers/bpe.js';
import { loadTokenizerJson } from '../tokenizers/tokenizer-json.js';
import { checkRgb, imagesToFloats, resizeRgb } from '../tokenizers/vq/images.js';
import { ClipModel, textBatch, validateClipConfig, type ClipConfig } from './clip.js';
import type { BiEncoder } from './encoders.js';
import { RetrievalInputError } from './errors.js';
import type { EncoderId } from './memory-bank.js';

export const CLIP_CONFIG = 'config.json';
export const CLIP_WEIGHTS = 'model.safetensors';
const CHUNK = 128;

export interface ClipFileInfo {
  kind: 'cm3leon-bi-encoder';
  config: ClipConfig;
  /** Path of the text tokenizer's tokenizer.json, relative to the encoder directory. */
  textTokenizer: string;
  /** Training summary (command, steps, time, metrics), kept with the weights. */
  training?: Record<string, unknown>;
}

export class ClipEncoder implements BiEncoder {
  readonly dim: number;
  private idCache: EncoderId | undefined;

  constructor(readonly model: ClipModel, readonly tokenizer: BpeTokenizer, readonly textTokenizerPath: string, private version?: string) {
    this.dim = model.config.embedDim;
  }

  get id(): EncoderId {
    this.idCache ??= { name: 'clip', version: this.version ?? weightsVersion(this.model) };
    return this.idCache;
  }

  /** Token lists as the text tower reads them (BPE ids, no specials, cut to textMaxLen). */
  tokenize(texts: readonly string[]): number[][] {
    return texts.map((t) => this.tokenizer.encode(t).slice(0, this.model.config.textMaxLen));
  }

  /** Images resized to the tower's size -> (B, 3, S, S) floats in [-1, 1]. */
  pixels(images: readonly RgbImage[]): Tensor {
    const s = this.model.config.imageSize;
    const bytes = images.map((im, i) => {
      checkRgb(im, `image ${i}`);
      return resizeRgb(im, s).rgb;
    });
    return tensor(imagesToFloats(bytes, s), [images.length, 3, s, s]);
  }

  async embedText(texts: readonly string[]): Promise<Float32Array[]> {
    return this.embedTextSync(texts);
  }

  async embedImage(images: readonly RgbImage[]): Promise<Float32Array[]> {
    return this.embedImageSync(images);
  }

  embedTextSync(texts: readonly string[]): Float32Array[] {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += CHUNK) {
      const lists = this.tokenize(texts.slice(i, i + CHUNK));
      out.push(...rows(noGrad(() => tidy(() => {
        const { ids, pool } = textBatch(lists, this.model.config.textMaxLen);
        return this.model.embedTexts(ids, pool).keep();
      }))));
    }
    return out;
  }

  embedImageSync(images: readonly RgbImage[]): Float32Array[] {
    const out: Float32Array[] = [];
    for (let i = 0; i < images.length; i += CHUNK) {
      const chunk = images.slice(i, i + CHUNK);
      out.push(...rows(noGrad(() => tidy(() => this.model.embedImages(this.pixels(chunk)).keep()))));
    }
    return out;
  }

  /** CLIP score of each (text, image) pair: the cosine of their embeddings, in [-1, 1]. */
  score(texts: readonly string[], images: readonly RgbImage[]): number[] {
    if (texts.length !== images.length) throw new RetrievalInputError(`score: ${texts.length} texts for ${images.length} images`);
    const t = this.embedTextSync(texts);
    const v = this.embedImageSync(images);
    return t.map((a, i) => a.reduce((s, x, j) => s + x * v[i]![j]!, 0));
  }

  /** Writes config.json and model.safetensors atomically (each a temp file and a rename). */
  save(dir: string, training?: Record<string, unknown>): void {
    mkdirSync(dir, { recursive: true });
    const tensors: Record<string, { shape: readonly number[]; data: Float32Array }> = {};
    for (const [name, p] of this.model.namedParameters()) tensors[name] = { shape: p.shape, data: p.dataSync() as Float32Array };
    saveSafetensors(join(dir, CLIP_WEIGHTS), tensors, { format: 'cm3leon-bi-encoder' });
    const info: ClipFileInfo = { kind: 'cm3leon-bi-encoder', config: this.model.config, textTokenizer: relative(resolve(dir), resolve(this.textTokenizerPath)), training };
    writeFileAtomic(join(dir, CLIP_CONFIG), `${JSON.stringify(info, null, 2)}\n`);
    this.idCache = undefined;
    this.version = undefined;
  }

  static load(dir: string): ClipEncoder {
    const path = join(dir, CLIP_CONFIG);
    if (!existsSync(path)) throw new RetrievalInputError(`${dir} is not a bi-encoder directory: no ${CLIP_CONFIG} (train one with \`cm3leon retrieve train-encoder\`)`);
    let info: ClipFileInfo;
    try {
      info = JSON.parse(readFileSync(path, 'utf8')) as ClipFileInfo;
      if (info.kind !== 'cm3leon-bi-encoder') throw new Error(`kind is '${String(info.kind)}', expected 'cm3leon-bi-encoder'`);
      validateClipConfig(info.config);
    } catch (err) {
      throw new RetrievalInputError(`${path} is not a valid bi-encoder config: ${(err as Error).message}`);
    }
    const tokPath = resolve(dir, info.textTokenizer);
    if (!existsSync(tokPath)) throw new RetrievalInputError(`${dir}: its text tokenizer ${tokPath} is missing`);
    const tokenizer = loadTokenizerJson(tokPath);
    if (tokenizer.vocabSize !== info.config.textVocab) throw new RetrievalInputError(`${dir}: the text tokenizer has ${tokenizer.vocabSize} ids, the encoder was trained on ${info.config.textVocab}`);
    const model = new ClipModel(info.config);
    const weightsPath = join(dir, CLIP_WEIGHTS);
    let file;
    try {
      file = loadSafetensors(weightsPath);
    } catch (err) {
      throw new RetrievalInputError(`${weightsPath}: ${(err as Error).message}`);
    }
    const state = new Map([...file.tensors].map(([k, v]) => [k, { shape: v.shape, data: v.data as Float32Array }]));
    try {
      model.loadStateDict(state);
    } catch (err) {
      throw new RetrievalInputError(`${weightsPath} does not match its config: ${(err as Error).message}`);
    }
    return new ClipEncoder(model, tokenizer, tokPath);
  }
}

/** A (B, E) tensor -> B host rows; the tensor is freed. */
function rows(t: Tensor): Float32Array[] {
  const data = t.dataSync() as Float32Array;
  const [b, e] = t.shape as [number, number];
  t.dispose();
  return Array.from({ length: b }, (_, i) => data.slice(i * e, (i + 1) * e));
}

/** sha256 of the config and every parameter's bytes, 12 hex digits. */
function weightsVersion(model: ClipModel): string {
  return weightsHash(JSON.stringify(model.config), model.namedParameters());
}
