/**
 * `cm3leon retrieve ...`: build a memory bank from datasets and query it with a text or an image.
 * Argument handling only; the work is in src/retrieval. Not the retrieval-augmented training or
 * generation (those will call src/retrieval directly).
 */
import { existsSync } from 'node:fs';
import { parseCommand } from './args.js';
import { CliError } from './errors.js';

export const summary = 'build and query the retrieval memory bank';

const USAGE = `usage (\`cm3leon index ...\` is the same command):
  cm3leon index build --data data/emoji,data/shapes -o data/memory-bank [--limit N]
  cm3leon index build --images my-pictures/ -o my-bank
  cm3leon index query "<text>" --bank data/memory-bank [--k 4] [--rules] [--ann]
  cm3leon index query picture.jpg --bank data/memory-bank [--k 4] [--rules] [--ann]
  cm3leon index train-encoder --data data/emoji,data/shapes -o models/bi-encoder [--steps 1000] [--batch 256]
        [--lr 1e-3] [--text-layers 2] [--embed-dim 128] [--eval-every N] [--max-minutes M] [--resume] [--seed S]
        [--device cpu|webgpu|auto]
  cm3leon index eval-encoder --encoder models/bi-encoder --data data/emoji,data/shapes [--json out.json]

  build:  --data takes dataset directories (only their training split goes in); --images a folder of
          images (.png .jpg .jpeg .webp .gif .avif .tif .tiff; other files are left out with a
          warning) captioned by <name>.txt beside each or by captions.tsv (<file>\t<caption>), plus
          texts.txt (one text document per line).
          --encoder DIR | hash-baseline   the bi-encoder (default models/bi-encoder)
          --image-tokenizer DIR           store each image's VQ codes (default models/image-tokenizer;
                                          --no-tokens to skip), needed by generate --retrieve
          --index none|auto|ivf_flat|ivf_pq   an ANN index (default auto: from 50,000 documents)
  query:  one argument with an image file's extension is an image query (or --image FILE);
          --rules applies the paper's rules (modality first, skip near-copies > 0.9 and near-duplicates);
          --ann searches the ANN index (exact search otherwise).`;

type OptionSpec = Parameters<typeof parseCommand>[1];
const parse = (args: string[], options: OptionSpec) => parseCommand(args, options, USAGE);

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || !Number.isSafeInteger(n) || n < 1) throw new CliError(`--${name} must be a positive whole number, got '${String(value)}'`);
  return n;
}

/** Turn the retrieval and data modules' input errors into one-line CLI errors. */
async function userErrors<T>(work: () => Promise<T>): Promise<T> {
  const [{ RetrievalInputError }, { DataInputError }] = await Promise.all([import('../retrieval/errors.js'), import('../data/errors.js')]);
  try {
    return await work();
  } catch (err) {
    if (err instanceof RetrievalInputError || err instanceof DataInputError) throw new CliError(err.message);
    throw err;
  }
}

const DEFAULT_ENCODER = 'models/bi-encoder';
const DEFAULT_IMAGE_TOKENIZER = 'models/image-tokenizer';

/** The encoder named on the command line: `hash-baseline` or a bi-encoder directory. */
async function loadEncoder(name: string) {
  const [{ HashEncoder }, { ClipEncoder }] = await Promise.all([import('../retrieval/encoders.js'), import('../retrieval/clip-encoder.js')]);
  if (name === 'hash-baseline') return new HashEncoder();
  return userErrors(async () => ClipEncoder.load(name));
}

async function build(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    data: { type: 'string' }, images: { type: 'string' }, out: { type: 'string', short: 'o' }, limit: { type: 'string' },
    encoder: { type: 'string' }, 'image-tokenizer': { type: 'string' }, 'no-tokens': { type: 'boolean' }, index: { type: 'string' },
  });
  if (values.help) return console.log(USAGE);
  if (positionals.length) throw new CliError(`unexpected argument '${positionals[0]}'`);
  if (!values.data && !values.images) throw new CliError(`give --data (dataset directories) or --images (a folder of images)\n\n${USAGE}`);
  if (values.data && values.images) throw new CliError('give either --data or --images, not both');
  if (!values.out) throw new CliError(`-o is required (where to write the memory bank)\n\n${USAGE}`);
  const index = String(values.index ?? 'auto');
  if (!['none', 'auto', 'ivf_flat', 'ivf_pq'].includes(index)) throw new CliError(`--index must be none, auto, ivf_flat or ivf_pq, got '${index}'`);
  const indexChoice = index === 'none' || index === 'auto' ? index : { type: index as 'ivf_flat' | 'ivf_pq' };
  const limit = values.limit === undefined ? undefined : positive('limit', values.limit, 1);
  const data = values.data ? String(values.data).split(',').filter((d) => d.length > 0) : [];
  for (const d of data) if (!existsSync(d)) throw new CliError(`dataset ${d} does not exist; build it with \`cm3leon data build\``);
  const encoder = await loadEncoder(String(values.encoder ?? DEFAULT_ENCODER));
  let encodeImages: ((images: import('../data/image.js').RgbImage[]) => Int32Array[]) | undefined;
  let imageTokenizer: string | undefined;
  if (!values['no-tokens']) {
    const dir = String(values['image-tokenizer'] ?? DEFAULT_IMAGE_TOKENIZER);
    const { ImageTokenizer } = await import('../tokenizers/vq/image-tokenizer.js');
    const vq = await userErrors(async () => ImageTokenizer.load(dir));
    encodeImages = (images) => vq.encode(images).map((g) => Int32Array.from(g));
    imageTokenizer = vq.codesVersion;
  }
  const progress = (done: number, total: number): void => {
    if (done === total || done % 2048 < 256) console.error(`${done}/${total} documents`);
  };
  const out = String(values.out);
  let info;
  if (values.images) {
    const { buildCollectionBank } = await import('../retrieval/collection.js');
    info = await userErrors(() => buildCollectionBank({ dir: String(values.images), out, encoder, encodeImages, imageTokenizer, index: indexChoice, onProgress: progress }));
  } else {
    const { buildMemoryBank } = await import('../retrieval/build-bank.js');
    info = await userErrors(() => buildMemoryBank({
      data, out, encoder, encodeImages, imageTokenizer, thumbnails: 64, index: indexChoice, onProgress: progress,
      limit, log: (line) => console.error(line),
    }));
  }
  console.log(`memory bank ${out}: ${info.counts.rows} documents, dim ${info.dim}, encoder ${info.encoder.name}@${info.encoder.version}${info.index ? `, ANN index ${info.index.type}` : ''}, ${info.buildSeconds} s`);
}

async function query(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    bank: { type: 'string' }, k: { type: 'string' }, image: { type: 'string' }, rules: { type: 'boolean' }, ann: { type: 'boolean' }, encoder: { type: 'string' },
  });
  if (values.help) return console.log(USAGE);
  if (!values.bank) throw new CliError(`--bank is required\n\n${USAGE}`);
  let text = positionals.join(' ').trim();
  let imagePath = values.image === undefined ? undefined : String(values.image);
  const { isImageFileName } = await import('../data/image-io.js');
  // One argument with an image file's extension is an image query, whatever the format.
  if (!imagePath && positionals.length === 1 && isImageFileName(text)) {
    imagePath = text;
    text = '';
  }
  if (!text && !imagePath) throw new CliError(`give a query text or an image (picture.png, .jpg, .webp, ...)\n\n${USAGE}`);
  if (text && imagePath) throw new CliError('give either a query text or an image, not both');
  const k = positive('k', values.k, 4);
  const [{ openMemoryBank }, { applyRules }, { readImage }] = await Promise.all([
    import('../retrieval/memory-bank.js'), import('../retrieval/rules.js'), import('../data/image-io.js'),
  ]);
  await userErrors(async () => {
    const bank = await openMemoryBank(String(values.bank));
    try {
      const name = bank.info.encoder.name === 'hash-baseline' ? 'hash-baseline' : String(values.encoder ?? DEFAULT_ENCODER);
      const encoder = await loadEncoder(name);
      if (encoder.id.name !== bank.info.encoder.name || encoder.id.version !== bank.info.encoder.version) {
        throw new CliError(`${String(values.bank)} was built by encoder ${bank.info.encoder.name}@${bank.info.encoder.version}, not ${encoder.id.name}@${encoder.id.version} (${name}); rebuild the bank or pass the --encoder it was built with`);
      }
      let vector: Float32Array;
      if (imagePath) {
        let image;
        try {
          // The models' 64 px, centre-cropped: as index build --images reads the bank's pictures.
          image = await readImage(imagePath, { size: 64 });
        } catch (err) {
          // readImage's message starts with the file name.
          throw new CliError(`cannot read image ${(err as Error).message}`);
        }
        [vector] = (await encoder.embedImage([image])) as [Float32Array];
      } else {
        [vector] = (await encoder.embedText([text])) as [Float32Array];
      }
      const ann = values.ann ? true : false;
      const hits = values.rules
        ? applyRules(await bank.search(vector, k * 8, { withVectors: true, ann }), k)
        : await bank.search(vector, k, { ann });
      for (const h of hits) console.log(`${h.score.toFixed(4)}  ${h.id}  [${h.kind}${h.imageId ? ` ${h.imageId}` : ''}]  ${h.text ?? ''}`);
    } finally {
      bank.close();
    }
  });
}

const DEFAULT_TEXT_TOKENIZER = 'models/text-tokenizer/tokenizer.json';

function numberOption(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`--${name} must be a positive number, got '${String(value)}'`);
  return n;
}

async function trainEncoder(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    data: { type: 'string' }, out: { type: 'string', short: 'o' }, steps: { type: 'string' }, batch: { type: 'string' },
    lr: { type: 'string' }, 'text-layers': { type: 'string' }, 'embed-dim': { type: 'string' }, 'eval-every': { type: 'string' },
    'max-minutes': { type: 'string' }, resume: { type: 'boolean' }, seed: { type: 'string' }, 'text-tokenizer': { type: 'string' },
    limit: { type: 'string' }, device: { type: 'string' },
  });
  if (values.help) return console.log(USAGE);
  if (positionals.length) throw new CliError(`unexpected argument '${positionals[0]}'`);
  if (!values.data) throw new CliError(`--data is required (comma-separated dataset directories)\n\n${USAGE}`);
  if (!values.out) throw new CliError(`-o is required (the encoder directory to write)\n\n${USAGE}`);
  const data = String(values.data).split(',').filter((d) => d.length > 0);
  for (const d of data) if (!existsSync(d)) throw new CliError(`dataset ${d} does not exist; build it with \`cm3leon data build\``);
  const tokPath = String(values['text-tokenizer'] ?? DEFAULT_TEXT_TOKENIZER);
  if (!existsSync(tokPath)) throw new CliError(`text tokenizer ${tokPath} not found`);
  const textLayers = values['text-layers'] === undefined ? 2 : Number(values['text-layers']);
  if (!Number.isInteger(textLayers) || textLayers < 0) throw new CliError(`--text-layers must be a whole number >= 0, got '${String(values['text-layers'])}'`);
  const steps = positive('steps', values.steps, 1500);
  const out = String(values.out);
  await (await import('./device.js')).checkDevice(values.device, 'train-encoder');
  const [{ defaultClipConfig }, { loadTokenizerJson }, { trainBiEncoder }, { useDevice }] = await Promise.all([
    import('../retrieval/clip.js'), import('../tokenizers/tokenizer-json.js'), import('../train/bi-encoder.js'), import('./device.js'),
  ]);
  const config = defaultClipConfig(loadTokenizerJson(tokPath).vocabSize, {
    textLayers, embedDim: positive('embed-dim', values['embed-dim'], 128), seed: values.seed === undefined ? 0 : positive('seed', values.seed, 1),
  });
  const limit = values.limit === undefined ? undefined : positive('limit', values.limit, 1);
  const maxMinutes = values['max-minutes'] === undefined ? undefined : numberOption('max-minutes', values['max-minutes'], 1);
  const device = await useDevice(values.device, 'train-encoder');
  const log = (l: string): void => console.error(l);
  log(`training on ${device}`);
  const t0 = performance.now();
  const r = await userErrors(() => trainBiEncoder({
    data, out, tokenizerPath: tokPath, config, steps, limit, log, resume: !!values.resume,
    batch: positive('batch', values.batch, 256), lr: numberOption('lr', values.lr, 1e-3),
    evalEvery: values['eval-every'] === undefined ? undefined : positive('eval-every', values['eval-every'], 500),
    maxSeconds: maxMinutes === undefined ? undefined : maxMinutes * 60, command: `cm3leon retrieve train-encoder ${args.join(' ')}`,
  }));
  console.log(`wrote ${out}: step ${r.step}, loss ${r.lastLoss.toFixed(4)}, ${((performance.now() - t0) / 60000).toFixed(1)} min; held-out ${r.summary}`);
}

async function evalEncoder(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { encoder: { type: 'string' }, data: { type: 'string' }, json: { type: 'string' }, limit: { type: 'string' } });
  if (values.help) return console.log(USAGE);
  if (positionals.length) throw new CliError(`unexpected argument '${positionals[0]}'`);
  if (!values.data) throw new CliError(`--data is required\n\n${USAGE}`);
  const data = String(values.data).split(',').filter((d) => d.length > 0);
  for (const d of data) if (!existsSync(d)) throw new CliError(`dataset ${d} does not exist; build it with \`cm3leon data build\``);
  const [{ loadClipItems, evaluateClip, formatRecall }, { ClipEncoder }, { HashEncoder }] = await Promise.all([
    import('../retrieval/clip-eval.js'), import('../retrieval/clip-encoder.js'), import('../retrieval/encoders.js'),
  ]);
  const name = String(values.encoder ?? 'models/bi-encoder');
  const encoder = await userErrors(async () => (name === 'hash-baseline' ? new HashEncoder() : ClipEncoder.load(name)));
  const limit = values.limit === undefined ? undefined : positive('limit', values.limit, 1);
  const heldout = await userErrors(() => loadClipItems(data, 'heldout', { limit }));
  const metrics = await evaluateClip(encoder, heldout);
  console.log(`${name} held-out ${formatRecall(metrics)}`);
  if (values.json) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(String(values.json), `${JSON.stringify({ encoder: name, ...metrics }, null, 2)}\n`);
  }
}

export async function run(args: string[]): Promise<void> {
  const [what, ...rest] = args;
  if (what === 'train-encoder') return trainEncoder(rest);
  if (what === 'eval-encoder') return evalEncoder(rest);
  if (what === 'build') return build(rest);
  if (what === 'query') return query(rest);
  if (what === undefined || what === '--help' || what === '-h') return console.log(USAGE);
  throw new CliError(`unknown retrieve command '${what}': expected 'build', 'query', 'train-encoder' or 'eval-encoder'\n\n${USAGE}`);
}
