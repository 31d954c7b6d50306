/**
 * `cm3leon train`: pretrain a CM3leon decoder with the CM3 objective on the datasets' caption pairs
 * (both orders), then write a model directory that `generate` and `caption` load. Argument
 * handling only; the run is src/train/pretrain.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
  const { presets } = await import('../model/config.js');
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

  const limit = values.limit === undefined ? undefined : num(values, 'limit', 0);
  const { pretrain, PretrainInputError } = await import('../train/pretrain.js');
  const { setBackend } = await import('../backends/index.js');
  const t0 = performance.now();
  let result;
  try {
    result = await pretrain({
      preset: preset as keyof typeof presets, dataDirs, textTokenizer: textPath, imageTokenizer: imageDir, runDir, outDir,
      device: String(values.device ?? 'cpu'), steps, batch, seqLen: seq, lr, warmup: num(values, 'warmup', 100), accumulate: num(values, 'accumulate', 1), maskProbability,
      evalEvery: num(values, 'eval-every', 200), checkpointEvery: num(values, 'checkpoint-every', 100), seed: num(values, 'seed', 0),
      stopAfter: values['stop-after'] === undefined ? undefined : num(values, 'stop-after', steps), limit, resume: !!values.resume,
      init: values.init === undefined ? undefined : String(values.init), retrieval: values.retrieval === undefined ? undefined : String(values.retrieval),
      retrieveMax: num(values, 'retrieve-max', 2), command: `cm3leon train ${args.join(' ')}`, log: (l) => console.error(l),
    });
  } catch (err) {
    if (err instanceof PretrainInputError) throw new CliError(`train: ${err.message}`);
    throw err;
  }
  setBackend('cpu');
  console.log(`wrote ${outDir}: step ${result.step}, train loss ${result.lastLoss.toFixed(4)}, held-out loss ${result.evalLoss?.toFixed(4)}, ${((performance.now() - t0) / 60000).toFixed(1)} min`);
}
