/**
 * Pretraining a CM3leon decoder (`cm3leon train` after argument parsing): the datasets' caption
 * pairs in both orders as documents (cached per run), the CM3 infill transform (optionally
 * retrieval-augmented: 0-N documents retrieved by a bi-encoder prepended), packed rows, the
 * decoder recipe through the training loop on the selected device, and the model directory
 * written by saveModelDir at the end.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { withHostCopies, type Rng } from '../tensor/index.js';
import { presetConfig, presets } from '../model/config.js';
import { Decoder } from '../model/decoder.js';
import { loadDecoder } from '../model/checkpoint.js';
import { saveModelDir } from '../model/model-dir.js';
import { cm3Mask } from '../model/cm3.js';
import { MultimodalTokenizer } from '../tokenizers/multimodal.js';
import { captionRecords, recordDocuments } from '../tasks/caption-docs.js';
import { PackedSource } from './packing.js';
import { train, type TrainResult } from './trainer.js';

/** A problem with the run's inputs (a bad --init or --retrieval), worth one line to the user. */
export class PretrainInputError extends Error {}

export interface PretrainOptions {
  preset: keyof typeof presets;
  dataDirs: string[];
  textTokenizer: string;
  imageTokenizer: string;
  runDir: string;
  outDir: string;
  /** cpu | webgpu | auto: where the decoder trains (the data is prepared on the CPU first). */
  device: string;
  steps: number;
  batch: number;
  seqLen: number;
  lr: number;
  warmup: number;
  accumulate: number;
  maskProbability: number;
  evalEvery: number;
  checkpointEvery: number;
  seed: number;
  stopAfter?: number;
  limit?: number;
  resume: boolean;
  /** A trained model directory whose weights start the run (same architecture). */
  init?: string;
  /** A bi-encoder directory: retrieval-augmented documents. */
  retrieval?: string;
  retrieveMax: number;
  /** Recorded in the model directory. */
  command: string;
  log: (line: string) => void;
}

export async function pretrain(o: PretrainOptions): Promise<TrainResult> {
  const tok = MultimodalTokenizer.load(o.textTokenizer, o.imageTokenizer);
  const config = presetConfig(o.preset, tok.vocab.size, { maxPositions: Math.max(presets[o.preset].maxPositions, o.seqLen), seed: o.seed });
  if (o.seqLen > config.maxPositions) throw new PretrainInputError(`--seq ${o.seqLen} exceeds the preset's ${config.maxPositions} positions`);
  mkdirSync(o.runDir, { recursive: true });
  // The document cache is valid while the tokenizers, the datasets and the limit are unchanged.
  const stamp = (p: string): string => `${resolve(p)}:${statSync(p).size}:${statSync(p).mtimeMs}`;
  const key = createHash('sha256').update([stamp(o.textTokenizer), stamp(join(o.imageTokenizer, 'model.safetensors')), ...o.dataDirs.map((d) => stamp(join(d, 'info.json'))), String(o.limit)].join('|')).digest('hex').slice(0, 16);
  const recordsFor = (split: 'train' | 'heldout') => captionRecords(o.dataDirs, tok, {
    split, limit: split === 'heldout' && o.limit ? Math.ceil(o.limit / 4) : o.limit, log: o.log,
    cache: join(o.runDir, `records-${split}.safetensors`), key,
  });
  const trainRecords = await recordsFor('train');
  const { docs: trainDocs, recordOf } = recordDocuments(trainRecords, tok);
  const heldoutDocs = recordDocuments(await recordsFor('heldout'), tok).docs;
  const tokens = trainDocs.reduce((s, d) => s + d.length, 0);
  o.log(`documents: ${trainDocs.length} train (${tokens} tokens), ${heldoutDocs.length} held-out; vocabulary ${tok.vocab.size}; model ${o.preset}`);
  const ids = tok.ids;
  const special = { eos: ids.eos, brk: ids.brk, infill: ids.infill, sentinels: ids.sentinels };
  let transform = (doc: Int32Array, rng: Rng): Int32Array => cm3Mask(doc, special, rng, { maskProbability: o.maskProbability });
  if (o.retrieval !== undefined) {
    const [{ ClipEncoder }, { planRetrieval, retrievalTransform, loadPixels }] = await Promise.all([import('../retrieval/clip-encoder.js'), import('../tasks/retrieval-docs.js')]);
    let encoder;
    try {
      encoder = ClipEncoder.load(o.retrieval);
    } catch (err) {
      throw new PretrainInputError(`--retrieval: ${(err as Error).message}`);
    }
    const pixels = await loadPixels(o.dataDirs, [...new Set(trainRecords.map((r) => r.image))]);
    const plan = await planRetrieval(trainRecords, encoder, pixels, { seed: o.seed, log: o.log });
    transform = retrievalTransform(plan, recordOf, tok, transform, { maxDocs: o.retrieveMax, maxTokens: o.seqLen + 1 });
    o.log(`retrieval: ${plan.bank.length} bank documents by ${encoder.id.name}@${encoder.id.version}; 0-${o.retrieveMax} prepended per example`);
  }
  const source = new PackedSource(trainDocs, heldoutDocs, o.batch, { seqLen: o.seqLen, seed: o.seed, accumulate: o.accumulate, evalRows: 64, transform });
  const { parseDevice, selectDevice } = await import('../backends/index.js');
  try {
    await selectDevice(parseDevice(o.device));
  } catch (err) {
    throw new PretrainInputError(`--device: ${(err as Error).message}`);
  }
  const model = new Decoder(config); // on the selected device (resuming loads there too)
  if (o.init !== undefined) {
    let init;
    try {
      init = loadDecoder(o.init);
    } catch (err) {
      throw new PretrainInputError(`--init: ${(err as Error).message}`);
    }
    const shape = (c: typeof config): string => JSON.stringify([c.vocabSize, c.dim, c.heads, c.layers, c.maxPositions]);
    if (shape(init.config) !== shape(config)) throw new PretrainInputError(`--init ${o.init} has config ${JSON.stringify(init.config)}, this run needs ${JSON.stringify(config)}`);
    model.loadStateDict(init.stateDict());
    o.log(`initialised from ${o.init}`);
  }
  o.log(`parameters: ${(model.numParameters() / 1e6).toFixed(2)}M; ${o.steps} steps of ${o.batch} x ${o.seqLen} tokens on ${model.embedTokens.weight.backend.name}`);
  const result = await train(model, source, {
    runDir: o.runDir, steps: o.steps, lr: o.lr, warmup: o.warmup, accumulate: o.accumulate,
    evalEvery: o.evalEvery, checkpointEvery: o.checkpointEvery, stopAfter: o.stopAfter, resume: o.resume,
  });
  const info = { textTokenizer: o.textTokenizer, imageTokenizer: o.imageTokenizer, imageTokenizerCodes: tok.image.codesVersion, preset: o.preset, trainedWith: o.command };
  await withHostCopies(result.model.parameters(), () => saveModelDir(o.outDir, result.model, info, { metadata: { step: String(result.step) }, special: { eos: ids.eos, pad: ids.pad } }));
  return result;
}
