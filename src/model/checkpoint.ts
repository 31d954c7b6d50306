/**
 * Decoder checkpoints in the Hugging Face layout: `model.safetensors` under `OPTForCausalLM` tensor
 * names plus an OPT `config.json`, so a checkpoint trained here loads in PyTorch (and back). OPT's
 * learned positions carry an offset of 2 rows (position t is row t + 2); we write two zero rows
 * first and drop them on load. `lm_head.weight` is tied to the token embedding and not written;
 * when a file has it, it must equal the embedding's shape. Files are written atomically.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors, writeFileAtomic, saveSafetensors, type TensorEntry } from '../nn/index.js';
import type { TypedArray } from '../tensor/index.js';
import { fromHfConfig, toHfConfig, type DecoderConfig } from './config.js';
import { Decoder, hfName } from './decoder.js';

export const OPT_POSITION_OFFSET = 2;

/** Our parameters under Hugging Face names, positions padded with the OPT offset rows. */
export function hfStateDict(model: Decoder): Map<string, TensorEntry> {
  const out = new Map<string, TensorEntry>();
  for (const [name, p] of model.namedParameters()) {
    const data = p.dataSync() as Float32Array;
    if (name === 'embedPositions.weight') {
      const padded = new Float32Array(data.length + OPT_POSITION_OFFSET * p.shape[1]!);
      padded.set(data, OPT_POSITION_OFFSET * p.shape[1]!);
      out.set(hfName(name), { shape: [p.shape[0]! + OPT_POSITION_OFFSET, p.shape[1]!], data: padded });
    } else {
      out.set(hfName(name), { shape: p.shape, data });
    }
  }
  return out;
}

export function saveDecoder(dir: string, model: Decoder, metadata: Record<string, string> = {}, special?: { eos?: number; pad?: number }): void {
  mkdirSync(dir, { recursive: true });
  saveSafetensors(join(dir, 'model.safetensors'), hfStateDict(model), { format: 'pt', ...metadata });
  writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(toHfConfig(model.config, special), null, 2)}\n`);
}

export function readDecoderConfig(dir: string): DecoderConfig {
  let raw: string;
  try {
    raw = readFileSync(join(dir, 'config.json'), 'utf8');
  } catch (err) {
    throw new Error(`checkpoint ${dir}: cannot read config.json (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new Error(`checkpoint ${dir}: config.json is not valid JSON (${(err as Error).message})`);
  }
  return fromHfConfig(json as Record<string, unknown>);
}

/** Loads a decoder saved by saveDecoder (or by Hugging Face save_pretrained for a matching OPT config). */
export function loadDecoder(dir: string): Decoder {
  const config = readDecoderConfig(dir);
  const file = loadSafetensors(join(dir, 'model.safetensors'));
  const model = new Decoder(config);
  const state = new Map<string, { shape: readonly number[]; data: TypedArray }>();
  const params = model.namedParameters();
  const byHf = new Map([...params.keys()].map((n) => [hfName(n), n]));
  for (const [name, t] of file.tensors) {
    if (name === 'lm_head.weight') {
      const e = params.get('embedTokens.weight')!;
      if (t.shape.join() !== e.shape.join()) throw new Error(`checkpoint ${dir}: lm_head.weight shape [${t.shape}] differs from the tied embedding [${e.shape}]`);
      continue;
    }
    const ours = byHf.get(name);
    if (!ours) throw new Error(`checkpoint ${dir}: unexpected tensor '${name}' for this config`);
    if (t.dtype !== 'F32') throw new Error(`checkpoint ${dir}: tensor '${name}' is ${t.dtype}; only F32 is supported`);
    let { shape, data } = t as { shape: number[]; data: Float32Array };
    if (ours === 'embedPositions.weight') {
      if (shape[0] !== config.maxPositions + OPT_POSITION_OFFSET) {
        throw new Error(`checkpoint ${dir}: ${name} has ${shape[0]} rows, expected max_position_embeddings + 2 = ${config.maxPositions + OPT_POSITION_OFFSET}`);
      }
      data = data.subarray(OPT_POSITION_OFFSET * shape[1]!);
      shape = [shape[0]! - OPT_POSITION_OFFSET, shape[1]!];
    }
    state.set(ours, { shape, data });
  }
  const missing = [...params.keys()].filter((n) => !state.has(n)).map(hfName);
  if (missing.length) throw new Error(`checkpoint ${dir}: missing tensors ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ` and ${missing.length - 4} more` : ''}`);
  try {
    model.loadStateDict(state);
  } catch (err) {
    throw new Error(`checkpoint ${dir}: ${(err as Error).message}`);
  }
  return model;
}
