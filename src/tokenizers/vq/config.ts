/**
 * The image tokenizer's typed configuration: image size, downsampling factor (hence the code grid),
 * codebook size and width, and the autoencoder's channels. `vqConfigFromDict` reads a saved
 * config.json (unknown keys dropped, every value checked), so a mismatched or hand-edited file is
 * refused with the field named instead of failing later inside a conv.
 */
import { TokenizerError } from '../errors.js';

export interface VqConfig {
  /** Side of the (square) RGB images the tokenizer reads and writes. */
  imageSize: number;
  /** Downsampling factor: the code grid is imageSize / factor on each side (4 -> 16x16 at 64 px). */
  factor: number;
  /** Number of codes (K). */
  codebookSize: number;
  /** Width of a code vector (D); codes and lookups are l2-normalised. */
  codeDim: number;
  /** Channels per resolution level, full resolution first; log2(factor) + 1 levels. */
  channels: number[];
  /** Residual blocks per level in the encoder (and the decoder, unless decoderResBlocks says otherwise). */
  resBlocks: number[];
  /**
   * Residual blocks per level in the decoder, full resolution first; absent: resBlocks. A decoder
   * can grow blocks after training (`withDecoderBlocks`) without changing any code.
   */
  decoderResBlocks?: number[];
  /** Group-norm groups (must divide every channel count). */
  groups: number;
}

export const DEFAULT_VQ_CONFIG: VqConfig = {
  imageSize: 64,
  factor: 4,
  codebookSize: 512,
  codeDim: 32,
  channels: [32, 64, 128],
  resBlocks: [0, 1, 2],
  groups: 8,
};

/** The code grid side. */
export function gridSize(c: VqConfig): number {
  return c.imageSize / c.factor;
}

/** A config for the given grid at `imageSize` px, with channels/blocks scaled to the level count. */
export function vqConfigFor(o: { imageSize?: number; grid?: number; codebookSize?: number; codeDim?: number; width?: number }): VqConfig {
  const imageSize = o.imageSize ?? 64;
  const grid = o.grid ?? 16;
  const factor = imageSize / grid;
  const width = o.width ?? 32;
  const levels = Math.round(Math.log2(factor)) + 1;
  const channels = Array.from({ length: levels }, (_, i) => width * 2 ** Math.min(i, 2));
  const resBlocks = Array.from({ length: levels }, (_, i) => (i === 0 ? 0 : i === levels - 1 ? 2 : 1));
  return validateVqConfig({ ...DEFAULT_VQ_CONFIG, imageSize, factor, codebookSize: o.codebookSize ?? 512, codeDim: o.codeDim ?? 32, channels, resBlocks });
}

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new TokenizerError(`image tokenizer config: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** Checks every field and their consistency; returns the config. */
export function validateVqConfig(c: VqConfig): VqConfig {
  positiveInt('imageSize', c.imageSize);
  positiveInt('factor', c.factor);
  positiveInt('codebookSize', c.codebookSize);
  positiveInt('codeDim', c.codeDim);
  positiveInt('groups', c.groups);
  if ((c.factor & (c.factor - 1)) !== 0 || c.factor < 2) throw new TokenizerError(`image tokenizer config: factor must be a power of two >= 2, got ${c.factor}`);
  if (c.imageSize % c.factor !== 0) throw new TokenizerError(`image tokenizer config: imageSize ${c.imageSize} is not a multiple of factor ${c.factor}`);
  const levels = Math.log2(c.factor) + 1;
  for (const [name, list] of [['channels', c.channels], ['resBlocks', c.resBlocks]] as const) {
    if (!Array.isArray(list) || list.length !== levels) throw new TokenizerError(`image tokenizer config: ${name} needs ${levels} entries for factor ${c.factor}, got ${JSON.stringify(list)}`);
  }
  c.channels.forEach((ch, i) => {
    positiveInt(`channels[${i}]`, ch);
    if (ch % c.groups !== 0) throw new TokenizerError(`image tokenizer config: channels[${i}] = ${ch} is not divisible by groups ${c.groups}`);
  });
  if (c.decoderResBlocks !== undefined && (!Array.isArray(c.decoderResBlocks) || c.decoderResBlocks.length !== levels)) {
    throw new TokenizerError(`image tokenizer config: decoderResBlocks needs ${levels} entries for factor ${c.factor}, got ${JSON.stringify(c.decoderResBlocks)}`);
  }
  for (const name of ['resBlocks', 'decoderResBlocks'] as const) {
    (c[name] ?? []).forEach((n, i) => {
      if (!Number.isInteger(n) || n < 0) throw new TokenizerError(`image tokenizer config: ${name}[${i}] must be a whole number, got ${n}`);
    });
  }
  if (c.codebookSize > 65536) throw new TokenizerError(`image tokenizer config: codebookSize ${c.codebookSize} is above 65536`);
  return c;
}

/** Reads a config from parsed JSON: unknown keys are dropped, missing ones are an error. */
export function vqConfigFromDict(d: unknown): VqConfig {
  if (d === null || typeof d !== 'object' || Array.isArray(d)) throw new TokenizerError('image tokenizer config: config.json is not a JSON object');
  const o = d as Record<string, unknown>;
  const missing = Object.keys(DEFAULT_VQ_CONFIG).filter((k) => !(k in o));
  if (missing.length > 0) throw new TokenizerError(`image tokenizer config: missing ${missing.join(', ')}`);
  const c = {} as Record<string, unknown>;
  for (const k of Object.keys(DEFAULT_VQ_CONFIG)) c[k] = o[k];
  if (o['decoderResBlocks'] !== undefined) c['decoderResBlocks'] = o['decoderResBlocks'];
  return validateVqConfig(c as unknown as VqConfig);
}
