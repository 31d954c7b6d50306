/**
 * A training run's directory and its crash-safe checkpoint. The checkpoint is a folder written
 * whole under a temporary name and swapped in with renames, so a kill at any moment leaves either
 * the previous or the new checkpoint complete:
 *
 *   run/checkpoint/        the model's files (the decoder: model.safetensors + config.json),
 *                          optimizer.safetensors (tensors m.<param> / v.<param>, metadata step, lr),
 *                          trainer.json {step, tokensSeen, bestEvalLoss, extra}
 *   run/metrics.jsonl      one JSON object per logged step / evaluation
 *   run/loss.png           the loss curve
 *
 * Every recipe (decoder, image tokenizer, bi-encoder) writes this one format; only the model's
 * own files differ.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, loadSafetensors, saveSafetensors, writeFileAtomic, type TensorEntry } from '../nn/index.js';
import type { Tensor, TypedArray } from '../tensor/index.js';
import { loadDecoder, saveDecoder } from '../model/checkpoint.js';
import type { Decoder } from '../model/decoder.js';

export interface TrainerState {
  step: number;
  /** Items seen so far: tokens for the decoder, images or pairs for the others. */
  tokensSeen: number;
  bestEvalLoss: number | null;
  /** Anything the caller needs to resume exactly (data cursor, options). */
  extra: Record<string, unknown>;
}

const CKPT = 'checkpoint';

/** The name of each of the optimizer's parameters, in its order (the moments are stored by name). */
function optimizerNames(opt: AdamW, named: Map<string, Tensor>): string[] {
  const nameOf = new Map([...named].map(([n, p]) => [p, n]));
  return opt.groups.flatMap((g) => g.params).map((p) => {
    const n = nameOf.get(p);
    if (n === undefined) throw new Error(`checkpoint: an optimized parameter of shape [${p.shape.join(', ')}] has no name`);
    return n;
  });
}

/** Writes optimizer.safetensors: m.<name> / v.<name> per parameter, metadata step and lr. */
export function saveOptimizer(path: string, opt: AdamW, named: Map<string, Tensor>, file = 'optimizer.safetensors'): void {
  const os = opt.exportState();
  const entries = new Map<string, TensorEntry>();
  optimizerNames(opt, named).forEach((n, i) => {
    const shape = named.get(n)!.shape;
    entries.set(`m.${n}`, { shape, data: os.m[i]! });
    entries.set(`v.${n}`, { shape, data: os.v[i]! });
  });
  saveSafetensors(join(path, file), entries, { step: String(os.step), lr: String(opt.lr) });
}

/** Restores what saveOptimizer wrote into `opt` (the same parameters, by name). */
export function restoreOptimizer(dir: string, opt: AdamW, named: Map<string, Tensor>, fallbackStep: number, file = 'optimizer.safetensors'): void {
  const f = loadSafetensors(join(dir, file));
  const pick = (k: string): TypedArray => {
    const t = f.tensors.get(k);
    if (!t) throw new Error(`checkpoint ${dir}: ${file} lacks ${k}`);
    return t.data as TypedArray;
  };
  const names = optimizerNames(opt, named);
  opt.importState({ step: Number(f.metadata.step ?? fallbackStep), m: names.map((n) => pick(`m.${n}`)), v: names.map((n) => pick(`v.${n}`)) });
}

/**
 * Writes a checkpoint: `writeModel(dir)` puts the model's files into the temporary folder, then the
 * optimizer and trainer state follow and the folder is swapped in.
 */
export function writeCheckpoint(runDir: string, o: { writeModel: (dir: string) => void; opt: AdamW; named: Map<string, Tensor>; state: TrainerState }): void {
  const final = join(runDir, CKPT);
  const tmp = join(runDir, `${CKPT}.tmp`);
  const old = join(runDir, `${CKPT}.old`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  o.writeModel(tmp);
  saveOptimizer(tmp, o.opt, o.named);
  writeFileAtomic(join(tmp, 'trainer.json'), `${JSON.stringify(o.state, null, 2)}\n`);
  // Swap: checkpoint -> checkpoint.old, tmp -> checkpoint, drop old. Any prefix of this leaves one whole copy.
  rmSync(old, { recursive: true, force: true });
  if (existsSync(final)) renameSync(final, old);
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
}

/** The decoder's checkpoint (the format written since the first decoder runs). */
export function saveCheckpoint(runDir: string, model: Decoder, opt: AdamW, state: TrainerState): void {
  writeCheckpoint(runDir, { writeModel: (dir) => saveDecoder(dir, model, { step: String(state.step) }), opt, named: model.namedParameters(), state });
}

/** The directory of the newest complete checkpoint, or null when the run has none. */
export function findCheckpoint(runDir: string): string | null {
  for (const name of [CKPT, `${CKPT}.old`]) {
    const dir = join(runDir, name);
    if (existsSync(join(dir, 'trainer.json'))) return dir;
  }
  return null;
}

export function readTrainerState(dir: string): TrainerState {
  let state: TrainerState;
  try {
    state = JSON.parse(readFileSync(join(dir, 'trainer.json'), 'utf8')) as TrainerState;
  } catch (err) {
    throw new Error(`checkpoint ${dir}: trainer.json unreadable (${(err as Error).message})`);
  }
  if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`checkpoint ${dir}: trainer.json has an invalid step`);
  state.extra ??= {};
  return state;
}

export interface LoadedCheckpoint {
  model: Decoder;
  state: TrainerState;
  /** Call once the optimizer exists, to restore its moments and step. */
  restoreOptimizer(opt: AdamW): void;
}

export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const model = loadDecoder(dir);
  const state = readTrainerState(dir);
  return { model, state, restoreOptimizer: (opt: AdamW) => restoreOptimizer(dir, opt, model.namedParameters(), state.step) };
}
