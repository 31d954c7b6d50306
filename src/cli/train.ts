/**
 * `cm3leon train`: pretrain a CM3leon decoder with the CM3 objective on the datasets' caption pairs
 * (both orders), then write a model directory that `generate` and `caption` load.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError } from './errors.js';

export const summary = 'train a CM3leon model';

const USAGE = `usage: cm3leon train [--preset small] [--data data/emoji,data/shapes] [options]

  --preset NAME            tiny | small | base | 350m | 760m | 7b (default small)
  --data DIRS              comma-separated dataset directories (default data/emoji,data/shapes)
  --text-tokenizer PATH    default models/text-tokenizer/tokenizer.json
  --image-tokenizer DIR    default models/image-tokenizer
  --run DIR                run directory: checkpoints, metrics.jsonl, loss.png (default runs/<preset>)
  --out DIR                where the final model goes (default models/cm3leon-<preset>)
  --steps N                optimizer steps (default 3000)     --stop-after N  stop early, keep the schedule
  --batch N                sequences per step (default 8)      --seq N         tokens per sequence (default 512)
  --lr X                   peak learning rate (default 1e-3)   --warmup N      warmup steps (default 100)
  --accumulate N           micro-batches per step (default 1)  --limit N       at most N caption pairs per dataset
  --mask-probability P     share of documents given the CM3 infill transform (default 0.5)
  --eval-every N  --checkpoint-every N  --seed N  --resume
  --device cpu|webgpu|auto  where the decoder trains (default cpu; data preparation stays on the CPU)
  --init DIR               start from a trained model directory's weights (same architecture)
  --retrieval ENCODER      retrieval-augmented pretraining: each example is 0, 1 or 2 documents
                           retrieved from the training data by this bi-encoder, then the document
  --retrieve-max N         most documents prepended (default 2)`;

function num(values: Record<string, unknown>, name: string, fallback: number, integer = true): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw new CliError(`train: --${name} must be a ${integer ? 'non-negative integer' : 'non-negative number'}, got '${String(v)}'`);
  return n;
}

export async function run(args: string[]): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    const stringOptions = ['preset', 'data', 'text-tokenizer', 'image-tokenizer', 'run', 'out', 'steps', 'stop-after', 'batch', 'seq', 'lr', 'warmup', 'accumulate', 'limit', 'mask-probability', 'eval-every', 'checkpoint-every', 'seed', 'device', 'init', 'retrieval', 'retrieve-max'];
    const spec: Record<string, { type: 'string' | 'boolean' }> = { resume: { type: 'boolean' }, help: { type: 'boolean' } };
    for (const k of stringOptions) spec[k] = { type: 'string' };
    ({ values } = parseArgs({ args, options: spec }) as { values: Record<string, string | boolean | undefined> });
  } catch (err) {
    throw new CliError(`train: ${(err as Error).message}\n\n${USAGE}`);
  }
  if (values.help) return console.log(USAGE);
  const preset = String(values.preset ?? 'small');
  const { presets, presetConfig } = await import('../model/config.js');
  if (!(preset in presets)) throw new CliError(`train: unknown preset '${preset}' (available: ${Object.keys(presets).join(', ')})`);
  const dataDirs = String(values.data ?? 'data/emoji,data/shapes').split(',').filter(Boolean);
  // Fail before any compute on bad paths.
  for (const d of dataDirs) if (!existsSync(join(d, 'info.json'))) throw new CliError(`train: ${d} is not a dataset directory (build it first: cm3leon data build ...)`);
  const textPath = String(values['text-tokenizer'] ?? 'models/text-tokenizer/tokenizer.json');
  const imageDir = String(values['image-tokenizer'] ?? 'models/image-tokenizer');
  if (!existsSync(textPath)) throw new CliError(`train: text tokenizer ${textPath} not found`);
  if (!existsSync(join(imageDir, 'config.json'))) throw new CliError(`train: image tokenizer ${imageDir} not found`);
  const runDir = String(values.run ?? `runs/${preset}`);
  const outDir = String(values.out ?? `models/cm3leon-${preset}`);
  const steps = num(values, 'steps', 3000);
  const batch = num(values, 'batch', 8);
  const seq = num(values, 'seq', 512);
  const lr = num(values, 'lr', 1e-3, false);
  const maskProbability = num(values, 'mask-probability', 0.5, false);
  if (steps < 1 || batch < 1 || seq < 2) throw new CliError('train: --steps, --batch must be >= 1 and --seq >= 2');
  if (maskProbability > 1) throw new CliError(`train: --mask-probability must be in [0, 1], got ${maskProbability}`);

  const { MultimodalTokenizer } = await import('../tokenizers/multimodal.js');
  const { captionRecords, recordDocuments } = await import('../tasks/caption-docs.js');
  const { Decoder } = await import('../model/decoder.js');
  const { saveModelDir } = await import('../model/model-dir.js');
  const { cm3Mask } = await import('../model/cm3.js');
  const { PackedSource } = await import('../train/packing.js');
  const { train } = await import('../train/trainer.js');
  const { withHostCopies } = await import('../tensor/index.js');
  type Rng = import('../tensor/index.js').Rng;

  const tok = MultimodalTokenizer.load(textPath, imageDir);
  const seqLen = seq;
  const config = presetConfig(preset, tok.vocab.size, { maxPositions: Math.max(presets[preset as keyof typeof presets].maxPositions, seqLen), seed: num(values, 'seed', 0) });
  if (seqLen > config.maxPositions) throw new CliError(`train: --seq ${seqLen} exceeds the preset's ${config.maxPositions} positions`);
  mkdirSync(runDir, { recursive: true });
  const limit = values.limit === undefined ? undefined : num(values, 'limit', 0);
  const stamp = (p: string): string => `${resolve(p)}:${statSync(p).size}:${statSync(p).mtimeMs}`;
  const key = createHash('sha256').update([stamp(textPath), stamp(join(imageDir, 'model.safetensors')), ...dataDirs.map((d) => stamp(join(d, 'info.json'))), String(limit)].join('|')).digest('hex').slice(0, 16);
  const recordsFor = (split: 'train' | 'heldout') => captionRecords(dataDirs, tok, {
    split, limit: split === 'heldout' && limit ? Math.ceil(limit / 4) : limit, log: (l) => console.error(l),
    cache: join(runDir, `records-${split}.safetensors`), key,
  });
  const trainRecords = await recordsFor('train');
  const { docs: trainDocs, recordOf } = recordDocuments(trainRecords, tok);
  const heldoutDocs = recordDocuments(await recordsFor('heldout'), tok).docs;
  const tokens = trainDocs.reduce((s, d) => s + d.length, 0);
  console.error(`documents: ${trainDocs.length} train (${tokens} tokens), ${heldoutDocs.length} held-out; vocabulary ${tok.vocab.size}; model ${preset}`);
  const ids = tok.ids;
  const special = { eos: ids.eos, brk: ids.brk, infill: ids.infill, sentinels: ids.sentinels };
  let transform = (doc: Int32Array, rng: Rng): Int32Array => cm3Mask(doc, special, rng, { maskProbability });
  if (values.retrieval !== undefined) {
    const encoderDir = String(values.retrieval);
    const [{ ClipEncoder }, { planRetrieval, retrievalTransform, loadPixels }] = await Promise.all([import('../retrieval/clip-encoder.js'), import('../tasks/retrieval-docs.js')]);
    let encoder;
    try {
      encoder = ClipEncoder.load(encoderDir);
    } catch (err) {
      throw new CliError(`train: --retrieval: ${(err as Error).message}`);
    }
    const pixels = await loadPixels(dataDirs, [...new Set(trainRecords.map((r) => r.image))]);
    const plan = await planRetrieval(trainRecords, encoder, pixels, { seed: num(values, 'seed', 0), log: (l) => console.error(l) });
    transform = retrievalTransform(plan, recordOf, tok, transform, { maxDocs: num(values, 'retrieve-max', 2), maxTokens: seqLen + 1 });
    console.error(`retrieval: ${plan.bank.length} bank documents by ${encoder.id.name}@${encoder.id.version}; 0-${num(values, 'retrieve-max', 2)} prepended per example`);
  }
  const source = new PackedSource(trainDocs, heldoutDocs, batch, {
    seqLen, seed: num(values, 'seed', 0), accumulate: num(values, 'accumulate', 1), evalRows: 64, transform,
  });
  const { parseDevice, selectDevice, setBackend } = await import('../backends/index.js');
  let device: string;
  try {
    device = (await selectDevice(parseDevice(String(values.device ?? 'cpu')))).name;
  } catch (err) {
    throw new CliError(`train: --device: ${(err as Error).message}`);
  }
  const model = new Decoder(config); // on the selected device (resuming loads there too)
  if (values.init !== undefined) {
    const { loadDecoder } = await import('../model/checkpoint.js');
    let init;
    try {
      init = loadDecoder(String(values.init));
    } catch (err) {
      throw new CliError(`train: --init: ${(err as Error).message}`);
    }
    const shape = (c: typeof config): string => JSON.stringify([c.vocabSize, c.dim, c.heads, c.layers, c.maxPositions]);
    if (shape(init.config) !== shape(config)) {
      throw new CliError(`train: --init ${String(values.init)} has config ${JSON.stringify(init.config)}, this run needs ${JSON.stringify(config)}`);
    }
    model.loadStateDict(init.stateDict());
    console.error(`initialised from ${String(values.init)}`);
  }
  console.error(`parameters: ${(model.numParameters() / 1e6).toFixed(2)}M; ${steps} steps of ${batch} x ${seqLen} tokens on ${device}`);
  const t0 = performance.now();
  const result = await train(model, source, {
    runDir, steps, lr, warmup: num(values, 'warmup', 100), accumulate: num(values, 'accumulate', 1),
    evalEvery: num(values, 'eval-every', 200), checkpointEvery: num(values, 'checkpoint-every', 100),
    stopAfter: values['stop-after'] === undefined ? undefined : num(values, 'stop-after', steps), resume: !!values.resume,
  });
  const info = { textTokenizer: textPath, imageTokenizer: imageDir, imageTokenizerCodes: tok.image.codesVersion, preset, trainedWith: `cm3leon train ${args.join(' ')}` };
  await withHostCopies(result.model.parameters(), () => saveModelDir(outDir, result.model, info, { metadata: { step: String(result.step) }, special: { eos: ids.eos, pad: ids.pad } }));
  setBackend('cpu');
  console.log(`wrote ${outDir}: step ${result.step}, train loss ${result.lastLoss.toFixed(4)}, held-out loss ${result.evalLoss?.toFixed(4)}, ${((performance.now() - t0) / 60000).toFixed(1)} min`);
}
