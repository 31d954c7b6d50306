/** `cm3leon generate "<caption>" -o out.png` and `cm3leon caption image.png`. */
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { numberOption, parseCommand, seedOption } from './args.js';
import { checkDevice } from './device.js';
import { CliError } from './errors.js';
import type { DeviceName } from '../backends/index.js';

export const summary = 'text-to-image and captioning';
const DEFAULT_MODEL = 'models/cm3leon-small';
const DEFAULT_ENCODER = 'models/bi-encoder';

const USAGE = `usage:
  cm3leon generate "<caption>" -o out.png [--model ${DEFAULT_MODEL}] [--temperature 1] [--top-p 0.9] [--top-k 0] [--seed 0]
                   [--cfg SCALE] [--cd-k K [--cd-alpha 0.1]] [--samples N [--batch B] [--rerank]] [--retrieve 0|1|2 [--bank DIR]]
                   [--encoder DIR] [--device cpu|webgpu|auto]
  cm3leon caption image.png [--model ${DEFAULT_MODEL}] [--temperature 0] [--top-p 1] [--seed 0] [--device cpu|webgpu|auto]

--samples N  N images with seeds seed, seed+1, ...: out.png becomes out-1.png ... out-N.png;
             with both --cfg and --cd-k, a mixture: the first half with CFG, the rest with CD-K
--batch B    generate the samples B at a time, as one batch (default 1): each sample and, with
             --cfg / --cd-k, its unconditional stream is a row of one forward per step (2B rows).
             The same images as one at a time, faster per image; memory grows with B (at most 64)
--retrieve K prepend K documents retrieved for the caption (bi-encoder + memory bank + the paper's
             rules); they are printed. --bank DIR picks a bank (\`cm3leon index build\`); by default a
             bank of the installed datasets' training split is built on first use and cached
--rerank     order the N samples by CLIP score (the bi-encoder, --encoder, default models/bi-encoder):
             out-1.png is the best; the scores are printed
--device  where the decoder runs (default cpu; webgpu needs a GPU or a Vulkan driver such as Mesa's
          lavapipe; auto takes webgpu when an adapter exists). The same seed gives the same tokens
          on either, up to float rounding in near-ties.`;

const OPTIONS = {
  o: { type: 'string', short: 'o' }, model: { type: 'string' }, batch: { type: 'string' }, temperature: { type: 'string' }, 'top-p': { type: 'string' },
  'top-k': { type: 'string' }, seed: { type: 'string' }, cfg: { type: 'string' }, 'cd-k': { type: 'string' }, 'cd-alpha': { type: 'string' },
  device: { type: 'string' }, samples: { type: 'string' }, rerank: { type: 'boolean' }, encoder: { type: 'string' }, retrieve: { type: 'string' }, bank: { type: 'string' },
} as const;

/** Library errors about the user's input become one-line CLI errors. */
async function userErrors<T>(f: () => Promise<T>, command = 'generate'): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof CliError) throw err;
    const { RetrievalInputError } = await import('../retrieval/errors.js');
    const { ModelDirError } = await import('../model/model-dir.js');
    const { DataInputError } = await import('../data/index.js');
    if (err instanceof DataInputError) throw new CliError(`${command}: ${err.message}`);
    if (err instanceof RetrievalInputError || err instanceof ModelDirError || err instanceof RangeError || (err as Error).message?.startsWith('generate:')) throw new CliError((err as Error).message);
    throw err;
  }
}

async function load(dir: string, device: DeviceName) {
  if (!existsSync(dir)) throw new CliError(`model ${dir} not found (train one with \`cm3leon train\`, or pass --model)`);
  const { Cm3leon } = await import('../decoding/pipeline.js');
  try {
    return await Cm3leon.load(dir, { device });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** Output paths are checked before any compute: an existing folder, and never a model's own files. */
async function checkOutput(path: string): Promise<void> {
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError(`generate: cannot write ${path}: the folder ${dir} does not exist`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new CliError(`generate: ${path} is a folder; give a file name such as out.png`);
  const { isWritableImageName } = await import('../data/index.js');
  if (!isWritableImageName(path)) throw new CliError(`generate: write a .png, .jpg or .webp file (got ${path})`);
}

export async function run(args: string[], command: 'generate' | 'caption' = 'generate'): Promise<void> {
  const { values, positionals } = parseCommand(args, OPTIONS, USAGE);
  if (values.help) return console.log(USAGE);
  const sampling = {
    temperature: numberOption(values, 'temperature', { fallback: command === 'caption' ? 0 : 1, min: 0 }),
    topP: numberOption(values, 'top-p', { fallback: command === 'caption' ? 1 : 0.9 }),
    topK: numberOption(values, 'top-k', { fallback: 0, integer: true, min: 0 }),
    seed: seedOption(values),
  };
  const { checkSamplingOptions } = await import('../decoding/sampling.js');
  try {
    checkSamplingOptions(sampling);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const device = await checkDevice(values.device, command);
  const modelDir = String(values.model ?? DEFAULT_MODEL);
  if (command === 'caption') return caption(positionals, modelDir, device, sampling);
  const text = positionals.join(' ');
  if (!text.trim()) throw new CliError(`generate: give a caption\n\n${USAGE}`);
  if (!values.o) throw new CliError('generate: say where to write the image with -o out.png');
  const out = String(values.o);
  const cfg = numberOption(values, 'cfg');
  const cdk = values['cd-k'] === undefined ? undefined : { k: numberOption(values, 'cd-k', { fallback: 0, integer: true, min: 1 }), alpha: numberOption(values, 'cd-alpha', { fallback: 0.1, min: 0, max: 1 }) };
  const samples = numberOption(values, 'samples', { fallback: 1, integer: true, min: 1, max: 256 });
  const batch = numberOption(values, 'batch', { fallback: 1, integer: true, min: 1, max: 64 });
  const retrieveK = numberOption(values, 'retrieve', { fallback: 0 });
  if (!Number.isInteger(retrieveK) || retrieveK < 0 || retrieveK > 2) throw new CliError(`generate: --retrieve takes 0, 1 or 2 documents, got '${String(values.retrieve)}'`);
  const mixture = cfg !== undefined && cdk !== undefined;
  if (mixture && samples < 2) throw new CliError('generate: --cfg and --cd-k together make a mixture of samples (half each); add --samples N with N >= 2');
  if (values.rerank && samples < 2) throw new CliError('generate: --rerank orders several samples; add --samples N with N >= 2');
  if (values.bank !== undefined && retrieveK === 0) throw new CliError('generate: --bank is used with --retrieve 1 or 2');
  // Several samples: out.png -> out-1.png ... out-N.png (the extension, and so the format, kept).
  const paths = Array.from({ length: samples }, (_, i) => (samples === 1 ? out : out.replace(/(\.[a-z]+)?$/i, (ext) => `-${i + 1}${ext || '.png'}`)));
  for (const p of paths) await checkOutput(p);

  const m = await load(modelDir, device);
  const t0 = performance.now();
  const { ClipEncoder } = await import('../retrieval/clip-encoder.js');
  const encoder = values.rerank || retrieveK > 0 ? await userErrors(async () => ClipEncoder.load(String(values.encoder ?? DEFAULT_ENCODER))) : undefined;
  const retrieved = retrieveK > 0 ? await userErrors(() => m.retrieve(text, retrieveK, { bank: values.bank as string | undefined, encoder })) : [];
  for (const d of retrieved) console.log(`retrieved ${d.score.toFixed(4)}  ${d.id}  ${d.text}`);
  const { generateSamples } = await import('../decoding/samples.js');
  const { writeImage } = await import('../data/index.js');
  const results = await userErrors(() => generateSamples(m, text, { ...sampling, cfg, cdk, samples, batch, retrieved, rerank: values.rerank ? encoder : undefined }));
  for (const [rank, r] of results.entries()) {
    await writeImage(paths[rank]!, r.image);
    if (values.rerank) {
      const how = mixture ? (r.guidance === 'cfg' ? ', CFG' : ', CD-K') : '';
      console.log(`wrote ${paths[rank]}: sample ${r.index + 1} (seed ${r.seed}${how}), CLIP score ${r.score!.toFixed(4)}`);
    } else {
      console.log(`wrote ${paths[rank]} (${r.image.width}x${r.image.height}, ${m.tok.imageLength} image tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s on ${m.model.embedTokens.weight.backend.name})`);
    }
  }
}

async function caption(positionals: string[], modelDir: string, device: DeviceName, sampling: { temperature: number; topP: number; topK: number; seed: number }): Promise<void> {
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new CliError(`caption: give one image file\n\n${USAGE}`);
  if (!existsSync(file)) throw new CliError(`caption: ${file} does not exist`);
  const m = await load(modelDir, device);
  // Any image format and size (data/image-io.ts: centre-cropped to the tokenizer's size).
  console.log(await userErrors(() => m.caption(file, sampling), 'caption'));
}
