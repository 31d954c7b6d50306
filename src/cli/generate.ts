/** `cm3leon generate "<caption>" -o out.png` and `cm3leon caption image.png`. */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CliError } from './errors.js';

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

function options(args: string[]) {
  try {
    return parseArgs({
      args, allowPositionals: true,
      options: { o: { type: 'string', short: 'o' }, model: { type: 'string' }, batch: { type: 'string' }, temperature: { type: 'string' }, 'top-p': { type: 'string' }, 'top-k': { type: 'string' }, seed: { type: 'string' }, cfg: { type: 'string' }, 'cd-k': { type: 'string' }, 'cd-alpha': { type: 'string' }, device: { type: 'string' }, samples: { type: 'string' }, rerank: { type: 'boolean' }, encoder: { type: 'string' }, retrieve: { type: 'string' }, bank: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${USAGE}`);
  }
}

function number(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliError(`--${name} must be a number, got '${v}'`);
  return n;
}

async function load(dir: string, device: string | undefined) {
  if (!existsSync(dir)) throw new CliError(`model ${dir} not found (train one with \`cm3leon train\`, or pass --model)`);
  const { Cm3leon } = await import('../decoding/pipeline.js');
  const { parseDevice, selectDevice, setBackend } = await import('../backends/index.js');
  let backend = 'cpu';
  try {
    const chosen = await selectDevice(parseDevice(device ?? 'cpu'));
    backend = chosen.name;
    setBackend('cpu'); // tokenizers and image decoding stay on the CPU; only the decoder moves
  } catch (err) {
    throw new CliError(`--device: ${(err as Error).message}`);
  }
  try {
    return Cm3leon.load(dir, { backend });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

async function loadEncoder(dir: string | undefined) {
  const { ClipEncoder } = await import('../retrieval/clip-encoder.js');
  try {
    return ClipEncoder.load(dir ?? DEFAULT_ENCODER);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** The documents to prepend: from --bank, or from the default bank (built on first use). */
async function retrieveFor(caption: string, k: number, encoder: import('../retrieval/clip-encoder.js').ClipEncoder, m: import('../decoding/pipeline.js').Cm3leon, bankDir: string | undefined) {
  const [{ Retriever, ensureDefaultBank }, { RetrievalInputError }] = await Promise.all([import('../retrieval/retriever.js'), import('../retrieval/errors.js')]);
  try {
    const dir = bankDir ?? await ensureDefaultBank({ encoder });
    const retriever = await Retriever.open(dir, encoder, { expectedCodes: m.tok.imageLength, codesVersion: m.tok.image.codesVersion, encodeImage: (image) => Int32Array.from(m.tok.image.encode([image])[0]!) });
    try {
      return await retriever.forText(caption, k);
    } finally {
      retriever.close();
    }
  } catch (err) {
    if (err instanceof RetrievalInputError) throw new CliError(err.message);
    throw err;
  }
}

export async function run(args: string[], command: 'generate' | 'caption' = 'generate'): Promise<void> {
  const { values, positionals } = options(args);
  if (values.help) return console.log(USAGE);
  const sampling = {
    temperature: number(values.temperature, 'temperature', command === 'caption' ? 0 : 1),
    topP: number(values['top-p'], 'top-p', command === 'caption' ? 1 : 0.9),
    topK: number(values['top-k'], 'top-k', 0),
    seed: number(values.seed, 'seed', 0),
  };
  const { checkSamplingOptions } = await import('../decoding/sampling.js');
  try {
    checkSamplingOptions(sampling);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (command === 'generate') {
    const caption = positionals.join(' ');
    if (!caption.trim()) throw new CliError(`generate: give a caption\n\n${USAGE}`);
    if (!values.o) throw new CliError('generate: say where to write the image with -o out.png');
    const m = await load(values.model ?? DEFAULT_MODEL, values.device);
    const t0 = performance.now();
    const cfg = values.cfg === undefined ? undefined : number(values.cfg, 'cfg', 1);
    const cdk = values['cd-k'] === undefined ? undefined : { k: number(values['cd-k'], 'cd-k', 0), alpha: number(values['cd-alpha'], 'cd-alpha', 0.1) };
    const samples = number(values.samples, 'samples', 1);
    if (!Number.isInteger(samples) || samples < 1 || samples > 256) throw new CliError(`generate: --samples must be an integer in [1, 256], got '${String(values.samples)}'`);
    const mixture = cfg !== undefined && cdk !== undefined;
    if (mixture && samples < 2) throw new CliError('generate: --cfg and --cd-k together make a mixture of samples (half each); add --samples N with N >= 2');
    if (values.rerank && samples < 2) throw new CliError('generate: --rerank orders several samples; add --samples N with N >= 2');
    const batch = number(values.batch, 'batch', 1);
    if (!Number.isInteger(batch) || batch < 1 || batch > 64) throw new CliError(`generate: --batch must be an integer in [1, 64], got '${String(values.batch)}'`);
    const retrieveK = number(values.retrieve, 'retrieve', 0);
    if (!Number.isInteger(retrieveK) || retrieveK < 0 || retrieveK > 2) throw new CliError(`generate: --retrieve takes 0, 1 or 2 documents, got '${String(values.retrieve)}'`);
    if (values.bank !== undefined && retrieveK === 0) throw new CliError('generate: --bank is used with --retrieve 1 or 2');
    const encoder = values.rerank || retrieveK > 0 ? await loadEncoder(values.encoder) : undefined;
    let context: import('../tokenizers/document.js').Document[] = [];
    if (retrieveK > 0) {
      const docs = await retrieveFor(caption, retrieveK, encoder!, m, values.bank);
      const { imageSegment, textSegment } = await import('../tokenizers/document.js');
      context = docs.map((d) => [textSegment(d.text), imageSegment(d.codes)]);
      for (const d of docs) console.log(`retrieved ${d.score.toFixed(4)}  ${d.id}  ${d.text}`);
    }
    const { writePng } = await import('../data/image.js');
    const images: import('../data/image.js').RgbImage[] = [];
    // A mixture (--cfg and --cd-k): the first ceil(N/2) samples with CFG, the rest with CD-K.
    const firstCdk = mixture ? Math.ceil(samples / 2) : samples;
    // Samples i0 .. i0 + n - 1 as one batch (--batch): sample i has seed seed + i either way.
    for (let i0 = 0; i0 < samples; ) {
      const end = i0 < firstCdk ? firstCdk : samples;
      const n = Math.min(batch, end - i0);
      const guidance = mixture ? (i0 < firstCdk ? { cfg } : { cdk }) : { cfg, cdk };
      let generated;
      try {
        generated = await m.generateImagesAsync(Array.from({ length: n }, () => caption), { ...sampling, seed: sampling.seed + i0, ...guidance, context });
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      for (const [j, { image }] of generated.entries()) {
        const i = i0 + j;
        images.push(image);
        if (values.rerank) continue;
        const path = samples === 1 ? values.o : values.o.replace(/(\.png)?$/i, `-${i + 1}.png`);
        writePng(path, image);
        console.log(`wrote ${path} (${image.width}x${image.height}, ${m.tok.imageLength} image tokens in ${((performance.now() - t0) / 1000).toFixed(1)} s on ${m.model.embedTokens.weight.backend.name})`);
      }
      i0 += n;
    }
    if (values.rerank && encoder) {
      const { rerankByClip } = await import('../decoding/rerank.js');
      const order = await rerankByClip(encoder, caption, images);
      order.forEach(({ index, score }, rank) => {
        const path = values.o!.replace(/(\.png)?$/i, `-${rank + 1}.png`);
        writePng(path, images[index]!);
        const how = mixture ? (index < firstCdk ? ', CFG' : ', CD-K') : '';
        console.log(`wrote ${path}: sample ${index + 1} (seed ${sampling.seed + index}${how}), CLIP score ${score.toFixed(4)}`);
      });
    }
    return;
  }
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new CliError(`caption: give one image file\n\n${USAGE}`);
  if (!existsSync(file)) throw new CliError(`caption: ${file} does not exist`);
  const { readPng } = await import('../data/image.js');
  let image;
  try {
    image = readPng(file);
  } catch (err) {
    throw new CliError(`caption: ${file}: ${(err as Error).message}`);
  }
  const m = await load(values.model ?? DEFAULT_MODEL, values.device);
  try {
    console.log(await m.captionAsync(image, sampling));
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}
