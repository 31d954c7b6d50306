/**
 * A training run's directory and its crash-safe checkpoint. The checkpoint is a folder written
 * whole under a temporary name and swapped in with renames, so a kill at any moment leaves either
 * the previous or the new checkpoint complete:
 *
 *   run/checkpoint/        model.safetensors, config.json, optimizer.safetensors, trainer.json
 *   run/metrics.jsonl      one JSON object per logged step / evaluation
 *   run/loss.png           the loss curve
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AdamW, loadSafetensors, saveSafetensors, writeFileAtomic, type TensorEntry } from '../nn/index.js';
import type { TypedArray } from '../tensor/index.js';
import { loadDecoder, saveDecoder } from '../model/checkpoint.js';
import type { Decoder } from '../model/decoder.js';

export interface TrainerState {
  step: number;
  tokensSeen: number;
  bestEvalLoss: number | null;
  /** Anything the caller needs to resume exactly (data cursor, options). */
  extra: Record<string, unknown>;
}

const CKPT = 'checkpoint';

export function saveCheckpoint(runDir: string, model: Decoder, opt: AdamW, state: TrainerState): void {
  const final = join(runDir, CKPT);
  const tmp = join(runDir, `${CKPT}.tmp`);
  const old = join(runDir, `${CKPT}.old`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  saveDecoder(tmp, model, { step: String(state.step) });
  const os = opt.exportState();
  const names = [...model.namedParameters().keys()];
  const entries = new Map<string, TensorEntry>();
  names.forEach((n, i) => {
    const shape = model.namedParameters().get(n)!.shape;
    entries.set(`m.${n}`, { shape, data: os.m[i]! });
    entries.set(`v.${n}`, { shape, data: os.v[i]! });
  });
  saveSafetensors(join(tmp, 'optimizer.safetensors'), entries, { step: String(os.step), lr: String(opt.lr) });
  writeFileAtomic(join(tmp, 'trainer.json'), `${JSON.stringify(state, null, 2)}\n`);
  // Swap: checkpoint -> checkpoint.old, tmp -> checkpoint, drop old. Any prefix of this leaves one whole copy.
  rmSync(old, { recursive: true, force: true });
  if (existsSync(final)) renameSync(final, old);
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
}

/** The directory of the newest complete checkpoint, or null when the run has none. */
export function findCheckpoint(runDir: string): string | null {
  for (const name of [CKPT, `${CKPT}.old`]) {
    const dir = join(runDir, name);
    if (existsSync(join(dir, 'trainer.json'))) return dir;
  }
  return null;
}

export interface LoadedCheckpoint {
  model: Decoder;
  state: TrainerState;
  /** Call once the optimizer exists, to restore its moments and step. */
  restoreOptimizer(opt: AdamW): void;
}

export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const model = loadDecoder(dir);
  let state: TrainerState;
  try {
    state = JSON.parse(readFileSync(join(dir, 'trainer.json'), 'utf8')) as TrainerState;
  } catch (err) {
    throw new Error(`checkpoint ${dir}: trainer.json unreadable (${(err as Error).message})`);
  }
  if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`checkpoint ${dir}: trainer.json has an invalid step`);
  return {
    model,
    state,
    restoreOptimizer(opt: AdamW) {
      const f = loadSafetensors(join(dir, 'optimizer.safetensors'));
      const names = [...model.namedParameters().keys()];
      const pick = (k: string): TypedArray => {
        const t = f.tensors.get(k);
        if (!t) throw new Error(`checkpoint ${dir}: optimizer.safetensors lacks ${k}`);
        return t.data as TypedArray;
      };
      opt.importState({ step: Number(f.metadata.step ?? state.step), m: names.map((n) => pick(`m.${n}`)), v: names.map((n) => pick(`v.${n}`)) });
    },
  };
}
