/**
 * The model directory: what `cm3leon train` writes and `Cm3leon.load` reads. One writer and one
 * reader, next to the decoder checkpoint they extend:
 *
 *   model.safetensors, config.json   the decoder (checkpoint.ts: Hugging Face OPT layout)
 *   cm3leon.json                     which text and image tokenizers it speaks, by relative path,
 *                                    and the image tokenizer's codes version it was trained on
 *
 * This module reads and writes the files only; loading the tokenizers is the pipeline's job.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { writeFileAtomic } from '../nn/index.js';
import { saveDecoder } from './checkpoint.js';
import type { Decoder } from './decoder.js';

export const MODEL_INFO = 'cm3leon.json';

export interface ModelInfo {
  /** Paths relative to the model directory. */
  textTokenizer: string;
  imageTokenizer: string;
  /**
   * The codesVersion of the image tokenizer the model was trained with: load refuses a tokenizer
   * whose images get other codes. Absent in models saved before it was recorded (not checked).
   */
  imageTokenizerCodes?: string;
  preset?: string;
  trainedWith?: string;
}

export class ModelDirError extends Error {
  override name = 'ModelDirError';
}

/** Reads and checks `dir/cm3leon.json`. Tokenizer paths come back absolute. */
export function readModelInfo(dir: string): ModelInfo {
  const path = join(dir, MODEL_INFO);
  if (!existsSync(path)) throw new ModelDirError(`model ${dir}: no ${MODEL_INFO} (is this a cm3leon model directory?)`);
  let info: Record<string, unknown>;
  try {
    info = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ModelDirError(`model ${dir}: ${MODEL_INFO} is not valid JSON (${(err as Error).message})`);
  }
  if (info === null || typeof info !== 'object' || Array.isArray(info)) throw new ModelDirError(`model ${dir}: ${MODEL_INFO} must hold a JSON object`);
  for (const key of ['textTokenizer', 'imageTokenizer'] as const) {
    if (typeof info[key] !== 'string' || info[key] === '') throw new ModelDirError(`model ${dir}: ${MODEL_INFO} lacks "${key}" (a path relative to the model directory)`);
  }
  for (const key of ['imageTokenizerCodes', 'preset', 'trainedWith'] as const) {
    if (info[key] !== undefined && typeof info[key] !== 'string') throw new ModelDirError(`model ${dir}: ${MODEL_INFO} "${key}" must be a string`);
  }
  const base = resolve(dir);
  return {
    ...(info as unknown as ModelInfo),
    textTokenizer: resolve(base, info.textTokenizer as string),
    imageTokenizer: resolve(base, info.imageTokenizer as string),
  };
}

/**
 * Writes a model directory: the decoder (parameters on the host: wrap in withHostCopies for a
 * device backend) and cm3leon.json, with the tokenizer paths made relative to `dir` so the
 * directory moves with its tokenizers.
 */
export function saveModelDir(dir: string, model: Decoder, info: ModelInfo, o: { metadata?: Record<string, string>; special?: { eos?: number; pad?: number } } = {}): void {
  saveDecoder(dir, model, o.metadata ?? {}, o.special);
  const rel = { ...info, textTokenizer: relative(dir, info.textTokenizer), imageTokenizer: relative(dir, info.imageTokenizer) };
  writeFileAtomic(join(dir, MODEL_INFO), `${JSON.stringify(rel, null, 2)}\n`);
}
