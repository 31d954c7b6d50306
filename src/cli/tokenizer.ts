/**
 * `cm3leon tokenizer ...`: train the byte-level BPE text tokenizer on text files, encode text to
 * ids and decode ids to text with a saved `tokenizer.json`; train the VQ image tokenizer on the
 * datasets, encode a PNG to a code grid, decode a grid to a PNG, round-trip with PSNR, evaluate.
 * The image commands load the tensor engine lazily, so the text commands stay light.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError } from './errors.js';
import { trainBpe } from '../tokenizers/bpe-train.js';
import { TokenizerError } from '../tokenizers/errors.js';
import { loadTokenizerJson, saveTokenizerJson } from '../tokenizers/tokenizer-json.js';
import { cm3leonSpecialTokens } from '../tokenizers/vocabulary.js';
import { DataInputError } from '../data/errors.js';
import { encodePng, type RgbImage } from '../data/image.js';
import type { ImageTokenizer } from '../tokenizers/vq/image-tokenizer.js';

export const summary = 'train and run tokenizers';

const DEFAULT_TOKENIZER = 'models/text-tokenizer/tokenizer.json';

export const DEFAULT_IMAGE_TOKENIZER = 'models/image-tokenizer';

export const IMAGE_USAGE = `  cm3leon tokenizer train-image [--data data/shapes,data/emoji] [--grid 16] [--codebook 512] [--steps 3000]
                                [--batch 16] [--lr 2e-3] [--width 32] [--edge 0.5] [--seed 1] [--threads N]
                                [--max-minutes M] [--checkpoint-every 200] [--resume] [--mse W] [--outline W] [--contrast W]
                                [--oversample-small K [--oversample-shapes cross,star]] [--recolour N] [--adversarial W] [--init DIR [--decoder-only | --encoder-only] [--decoder-blocks 1,1,2]]
                                [--device cpu|webgpu|auto] [--pack FILE] -o ${DEFAULT_IMAGE_TOKENIZER}
  cm3leon tokenizer encode image.png [--tokenizer DIR] [--json]
  cm3leon tokenizer decode codes.json -o out.png [--tokenizer DIR]
  cm3leon tokenizer roundtrip image.png -o out.png [--tokenizer DIR]
  cm3leon tokenizer eval-image [--tokenizer DIR] [--data data/shapes,data/emoji] [--limit N] [--sheet out.png] [--json]

train-image  trains the VQ image tokenizer on the training split (held-out concepts excluded) of the
             datasets; checkpoints with optimizer state every --checkpoint-every steps, --resume continues;
             --init starts from a trained tokenizer, --decoder-only then trains only its decoder (every
             image keeps its codes, so models and banks built on them stay valid), --encoder-only only
             its encoder (codebook and decoder fixed: every code grid decodes as before, so models that
             generate codes stay valid, while images may get codes the decoder draws better); --outline adds an
             L1 term on the pixels next to outlines (small objects), --contrast the same L1 divided by
             the outline's colour contrast (faint edges count as much as strong ones); --decoder-blocks grows the
             --init decoder to that many residual blocks per level (full resolution first; new
             blocks start as the identity); --oversample-small K draws Shapes pictures that hold a
             small object (of --oversample-shapes, default any) K times as often; --recolour N adds N
             Shapes scenes drawn again in random off-palette colours (never near a held-out pair's
             colour), so shape and colour are learnt apart; --adversarial W adds
             a patch discriminator's hinge term (weight W) so the decoder draws crisp edges;
             --device webgpu trains on the GPU (--decoder-only there); --pack FILE reads the images
             from a pack of bench/gpu/pack-vq-data.ts instead of --data
encode       prints the code grid of a PNG (resized to the tokenizer's size if needed): one row per line,
             or a JSON object {grid, codes} with --json
decode       reads codes (JSON: {codes: [...]}, a flat or nested array) and writes a PNG
roundtrip    encode + decode, writes the reconstruction and prints PSNR and SSIM
eval-image   PSNR, SSIM, codebook usage on the held-out split; Shapes scenes that still parse
--tokenizer defaults to ${DEFAULT_IMAGE_TOKENIZER}`;

const USAGE = `usage:
  cm3leon tokenizer train-text --input corpus.txt [--input more.txt ...] [--vocab-size 8192]
                               [--min-frequency 2] -o ${DEFAULT_TOKENIZER}
  cm3leon tokenizer encode-text "some text" [--tokenizer PATH] [--allow-special] [--tokens]
  cm3leon tokenizer decode-text 17 305 2 [--tokenizer PATH] [--skip-special]

train-text   byte-level BPE on UTF-8 text files; the CM3leon special tokens (<pad> <eos> <break>
             <mask> <infill> <mask:0>..<mask:15>, reserved slots) take ids 0..31, bytes and merges
             follow; writes a Hugging Face tokenizer.json
encode-text  prints the ids as a JSON array (text from the argument, or stdin when absent);
             special tokens in the text are matched only with --allow-special
decode-text  prints the text of ids given as arguments or on stdin (spaces, commas or JSON)
--tokenizer defaults to ${DEFAULT_TOKENIZER}

image tokenizer:
${IMAGE_USAGE}`;

export async function run(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(USAGE);
    return;
  }
  try {
    if (sub === 'train-text') return trainText(rest);
    if (sub === 'encode-text') return encodeText(rest);
    if (sub === 'decode-text') return decodeText(rest);
    if (sub === 'train-image') return await trainImage(rest);
    if (sub === 'encode') return await encodeImage(rest);
    if (sub === 'decode') return await decodeImage(rest);
    if (sub === 'roundtrip') return await roundtrip(rest);
    if (sub === 'eval-image') return await evalImage(rest);
  } catch (e) {
    if (e instanceof TokenizerError || e instanceof DataInputError) throw new CliError(`tokenizer ${sub}: ${e.message}`);
    throw e;
  }
  throw new CliError(`tokenizer: unknown subcommand '${sub}'\n\n${USAGE}`);
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
type Parsed = { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };

function parse(args: string[], options: OptionSpec): Parsed {
  try {
    const spec = { ...options, help: { type: 'boolean' as const, short: 'h' } };
    return parseArgs({ args, options: spec, allowPositionals: true, strict: true }) as Parsed;
  } catch (e) {
    throw new CliError(`${(e as Error).message}\n\n${USAGE}`);
  }
}

function intOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--${name} must be a positive integer, got '${String(value)}'`);
  return n;
}

function trainText(args: string[]): void {
  const { values, positionals } = parse(args, {
    input: { type: 'string', short: 'i', multiple: true },
    'vocab-size': { type: 'string' },
    'min-frequency': { type: 'string' },
    output: { type: 'string', short: 'o' },
  });
  if (values.help) return console.log(USAGE);
  if (positionals.length > 0) throw new CliError(`train-text takes no positional arguments (got '${positionals[0]}'); use --input`);
  const inputs = (values.input ?? []) as string[];
  if (inputs.length === 0) throw new CliError('train-text needs --input FILE (UTF-8 text)');
  const output = (values.output as string | undefined) ?? DEFAULT_TOKENIZER;
  const vocabSize = intOption(values['vocab-size'], 'vocab-size', 8192);
  const minFrequency = intOption(values['min-frequency'], 'min-frequency', 2);
  const specials = cm3leonSpecialTokens();
  const texts = inputs.map((path) => readText(path));
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);

  const t0 = performance.now();
  const tok = trainBpe(texts, {
    vocabSize,
    specials,
    minFrequency,
    progressEvery: 1000,
    // Progress only on a terminal: '\r' updates would litter a log file.
    onProgress: process.stderr.isTTY ? (made, target) => process.stderr.write(`\rmerges ${made}/${target}`) : undefined,
  });
  if (process.stderr.isTTY) process.stderr.write('\n');
  const seconds = (performance.now() - t0) / 1000;
  saveTokenizerJson(tok, output);
  const tokens = texts.reduce((n, t) => n + tok.encode(t, { loneSurrogates: 'replace' }).length, 0);
  console.log(
    `wrote ${output}: vocab ${tok.vocabSize} (${specials.length} special, 256 bytes, ${tok.merges.length} merges) ` +
      `from ${(bytes / 1e6).toFixed(2)} MB in ${seconds.toFixed(1)} s; ${(bytes / Math.max(1, tokens)).toFixed(2)} bytes/token on the input`,
  );
  if (tok.vocabSize < vocabSize) {
    console.log(`note: stopped below --vocab-size ${vocabSize}: no pair occurs ${minFrequency}+ times (see --min-frequency)`);
  }
}

function encodeText(args: string[]): void {
  const { values, positionals } = parse(args, {
    tokenizer: { type: 'string', short: 't' },
    'allow-special': { type: 'boolean' },
    tokens: { type: 'boolean' },
  });
  if (values.help) return console.log(USAGE);
  const tok = loadTokenizer(values.tokenizer as string | undefined);
  const text = positionals.length > 0 ? positionals.join(' ') : readFileSync(0, 'utf8');
  const ids = tok.encode(text, { allowSpecial: values['allow-special'] === true });
  console.log(JSON.stringify(ids));
  if (values.tokens) console.log(JSON.stringify(ids.map((id) => tok.idToToken(id))));
}

function decodeText(args: string[]): void {
  const { values, positionals } = parse(args, {
    tokenizer: { type: 'string', short: 't' },
    'skip-special': { type: 'boolean' },
  });
  if (values.help) return console.log(USAGE);
  const tok = loadTokenizer(values.tokenizer as string | undefined);
  const source = positionals.length > 0 ? positionals.join(' ') : readFileSync(0, 'utf8');
  const ids = parseIds(source);
  process.stdout.write(tok.decode(ids, { skipSpecial: values['skip-special'] === true }) + '\n');
}

/** "1 2 3", "1,2,3" or "[1, 2, 3]" -> ids. */
export function parseIds(source: string): number[] {
  const parts = source.replace(/[[\]]/g, ' ').split(/[\s,]+/).filter((p) => p.length > 0);
  return parts.map((p, i) => {
    if (!/^\d+$/.test(p)) throw new CliError(`decode-text: '${p}' (item ${i}) is not a token id`);
    return Number(p);
  });
}

function loadTokenizer(path: string | undefined) {
  if (path === undefined && !existsSync(DEFAULT_TOKENIZER)) {
    throw new CliError(`no tokenizer at ${DEFAULT_TOKENIZER}: train one with 'cm3leon tokenizer train-text' or pass --tokenizer PATH`);
  }
  return loadTokenizerJson(path ?? DEFAULT_TOKENIZER);
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read --input ${path}: ${(e as Error).message}`);
  }
}



function num(value: unknown, name: string, fallback: number, integer = true): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw new CliError(`--${name} must be a ${integer ? 'whole' : 'non-negative'} number, got '${String(value)}'`);
  return n;
}

/** The tensor engine and the VQ modules, loaded on first use. */
async function vq() {
  const [core, model, images] = await Promise.all([
    import('../index.js'), import('../tokenizers/vq/image-tokenizer.js'), import('../tokenizers/vq/images.js'),
  ]);
  return { setNumThreads: core.setNumThreads, ImageTokenizer: model.ImageTokenizer, psnr: images.psnr, ssim: images.ssim, resizeRgb: images.resizeRgb };
}

async function threads(value: unknown): Promise<void> {
  if (value !== undefined) (await vq()).setNumThreads(num(value, 'threads', 2));
}

async function loadImageTokenizer(path: string | undefined): Promise<ImageTokenizer> {
  const dir = path ?? DEFAULT_IMAGE_TOKENIZER;
  if (!existsSync(dir)) throw new CliError(`no image tokenizer at ${dir}: train one with 'cm3leon tokenizer train-image' or pass --tokenizer DIR`);
  return (await vq()).ImageTokenizer.load(dir);
}

/**
 * Reads the user's image (any format readImage takes: PNG, JPEG, WebP, GIF, AVIF, TIFF) at its own
 * size; the tokenizer resizes it. Grey, 16-bit and alpha images are converted (alpha composited
 * over white), as the datasets do; corrupt files and images over readImage's pixel limit are
 * refused with the reason, in one line.
 */
export async function readImageFile(path: string): Promise<RgbImage> {
  // Loaded on use: the text-tokenizer commands never need libvips.
  const { readImage } = await import('../data/image-io.js');
  try {
    return await readImage(path);
  } catch (e) {
    if (e instanceof DataInputError) throw new CliError(e.message);
    throw e;
  }
}

function writeImageFile(path: string, image: RgbImage): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encodePng(image));
}

async function trainImage(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    data: { type: 'string' }, grid: { type: 'string' }, codebook: { type: 'string' }, steps: { type: 'string' },
    batch: { type: 'string' }, lr: { type: 'string' }, width: { type: 'string' }, 'code-dim': { type: 'string' },
    edge: { type: 'string' }, mse: { type: 'string' }, seed: { type: 'string' }, threads: { type: 'string' },
    'max-minutes': { type: 'string' }, 'checkpoint-every': { type: 'string' }, 'log-every': { type: 'string' },
    'restart-every': { type: 'string' }, limit: { type: 'string' }, 'image-size': { type: 'string' },
    resume: { type: 'boolean' }, output: { type: 'string', short: 'o' },
    init: { type: 'string' }, 'decoder-only': { type: 'boolean' }, 'encoder-only': { type: 'boolean' }, outline: { type: 'string' }, contrast: { type: 'string' }, 'decoder-blocks': { type: 'string' },
    'oversample-small': { type: 'string' }, 'oversample-shapes': { type: 'string' }, adversarial: { type: 'string' },
    recolour: { type: 'string' }, device: { type: 'string' }, pack: { type: 'string' },
  });
  if (values.help) return console.log(IMAGE_USAGE);
  if (positionals.length > 0) throw new CliError(`train-image takes no positional arguments (got '${positionals[0]}')`);
  await threads(values.threads);
  const grid = num(values.grid, 'grid', 16);
  const imageSize = num(values['image-size'], 'image-size', 64);
  if (![4, 8, 16, 32].includes(grid) || imageSize % grid !== 0 || ((imageSize / grid) & (imageSize / grid - 1)) !== 0) {
    throw new CliError(`--grid ${grid} does not divide --image-size ${imageSize} by a power of two (try 8 or 16 at 64 px)`);
  }
  const oversample = num(values['oversample-small'], 'oversample-small', 1);
  if (oversample < 1) throw new CliError(`--oversample-small must be 1 or more, got ${oversample}`);
  const oversampleShapes = values['oversample-shapes'] === undefined ? undefined : String(values['oversample-shapes']).split(',').filter((v) => v.length > 0);
  const { SHAPE_NAMES } = await import('../data/index.js');
  for (const shape of oversampleShapes ?? []) {
    if (!(SHAPE_NAMES as readonly string[]).includes(shape)) throw new CliError(`--oversample-shapes: unknown shape '${shape}' (one of ${SHAPE_NAMES.join(', ')})`);
  }
  // Every numeric flag is checked before the (slow) data load.
  const loss = {
    edge: num(values.edge, 'edge', 0.5, false), mse: num(values.mse, 'mse', 0, false), outline: num(values.outline, 'outline', 0, false),
    contrast: num(values.contrast, 'contrast', 0, false), adversarial: num(values.adversarial, 'adversarial', 0, false),
  };
  const steps = num(values.steps, 'steps', 3000);
  const recolour = num(values.recolour, 'recolour', 0);
  const seed = num(values.seed, 'seed', 1);
  const maxMinutes = values['max-minutes'] === undefined ? undefined : num(values['max-minutes'], 'max-minutes', 0, false);
  const { trainImageTokenizer, trainConfig } = await import('../train/image-tokenizer.js');
  const { trainingImages } = await import('../train/image-tokenizer-data.js');
  const { checkDevice, useDevice } = await import('./device.js');
  // The whole model's quantiser reads synchronously: only --decoder-only trains on the GPU.
  const device0 = values['decoder-only'] ? await checkDevice(values.device, 'train-image') : (await checkDevice(values.device, 'train-image')).replace('auto', 'cpu');
  if (device0 === 'webgpu' && !values['decoder-only']) throw new CliError('--device webgpu trains the image tokenizer with --decoder-only only (the whole model trains on the CPU)');
  if (values['decoder-only'] && values.init === undefined) throw new CliError('--decoder-only needs --init DIR (the tokenizer whose codes stay fixed)');
  if (values['encoder-only'] && values.init === undefined) throw new CliError('--encoder-only needs --init DIR (the tokenizer whose codebook and decoder stay fixed)');
  if (values['encoder-only'] && values['decoder-only']) throw new CliError('--encoder-only and --decoder-only exclude each other');
  if (values['encoder-only'] && values['decoder-blocks'] !== undefined) throw new CliError('--decoder-blocks grows the decoder, which --encoder-only keeps fixed');
  // With --init, the architecture is the starting tokenizer's; the size flags must not contradict it.
  let init = values.init === undefined ? undefined : await loadImageTokenizer(String(values.init));
  if (values['decoder-blocks'] !== undefined) {
    if (!init) throw new CliError('--decoder-blocks grows the decoder of a trained tokenizer: it needs --init DIR');
    const blocks = String(values['decoder-blocks']).split(',').map((v) => Number(v));
    try {
      init = init.withDecoderBlocks(blocks);
    } catch (e) {
      throw new CliError(`--decoder-blocks: ${(e as Error).message}`);
    }
  }
  if (init) {
    for (const [flag, key] of [['grid', 'grid'], ['codebook', 'codebookSize'], ['image-size', 'imageSize']] as const) {
      const v = values[flag];
      const have = key === 'grid' ? init.grid : init.config[key];
      if (v !== undefined && Number(v) !== have) throw new CliError(`--${flag} ${v} contradicts the --init tokenizer's ${have}`);
    }
  }
  const config = init?.config ?? trainConfig({
    imageSize, grid, codebookSize: num(values.codebook, 'codebook', 512), width: num(values.width, 'width', 32), codeDim: num(values['code-dim'], 'code-dim', 32),
  });
  const dirs = String(values.data ?? 'data/shapes,data/emoji').split(',').filter((d) => d.length > 0);
  const out = String(values.output ?? DEFAULT_IMAGE_TOKENIZER);
  const limit = values.limit === undefined ? undefined : num(values.limit, 'limit', 0);
  let data;
  try {
    data = await trainingImages({
      dirs, size: config.imageSize, limit, recolour, oversample, oversampleShapes, seed,
      pack: values.pack === undefined ? undefined : String(values.pack), log: (l) => console.error(l),
    });
  } catch (e) {
    if (values.pack !== undefined) throw new CliError((e as Error).message);
    throw e;
  }
  const device = await useDevice(device0, 'train-image');
  if (device !== 'cpu') console.error(`training on ${device}`);
  const r = await trainImageTokenizer({
    out, images: data.images, config, steps,
    batchSize: num(values.batch, 'batch', 16), lr: values.lr === undefined ? undefined : num(values.lr, 'lr', 0, false),
    seed, resume: values.resume === true,
    loss,
    init, decoderOnly: values['decoder-only'] === true, encoderOnly: values['encoder-only'] === true,
    checkpointEvery: num(values['checkpoint-every'], 'checkpoint-every', 200),
    logEvery: num(values['log-every'], 'log-every', 20),
    restartEvery: num(values['restart-every'], 'restart-every', 50),
    maxSeconds: maxMinutes === undefined ? undefined : maxMinutes * 60,
    dataInfo: { ...data.dataInfo, ...(init ? { init: String(values.init) } : {}) },
  });
  console.log(`wrote ${out}: ${r.step} steps in ${(r.seconds / 60).toFixed(1)} min, grid ${config.imageSize / config.factor}x${config.imageSize / config.factor}, codebook ${config.codebookSize}`);
}

function printGrid(codes: Int32Array, g: number): void {
  const width = String(Math.max(...codes)).length;
  for (let y = 0; y < g; y++) console.log(Array.from(codes.subarray(y * g, (y + 1) * g), (c) => String(c).padStart(width)).join(' '));
}

async function encodeImage(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { tokenizer: { type: 'string', short: 't' }, json: { type: 'boolean' }, threads: { type: 'string' } });
  if (values.help) return console.log(IMAGE_USAGE);
  if (positionals.length !== 1) throw new CliError('encode needs exactly one image file: cm3leon tokenizer encode image.png');
  await threads(values.threads);
  const image = await readImageFile(positionals[0]!);
  const tok = await loadImageTokenizer(values.tokenizer as string | undefined);
  const [codes] = tok.encode([image]);
  if (values.json) console.log(JSON.stringify({ grid: tok.grid, codebookSize: tok.config.codebookSize, codes: Array.from(codes!) }));
  else printGrid(codes!, tok.grid);
}

/** Codes from JSON: {codes: [...]} or an array, flat or one row per array; also the plain grid `encode` prints. */
export function parseCodes(text: string, source: string): number[] {
  const trimmed = text.trim();
  let value: unknown;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      value = JSON.parse(trimmed);
    } catch (e) {
      throw new CliError(`${source}: not valid JSON (${(e as Error).message})`);
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) value = (value as Record<string, unknown>)['codes'];
    if (!Array.isArray(value)) throw new CliError(`${source}: expected {"codes": [...]} or an array of codes`);
    const flat = (value as unknown[]).flat(2);
    flat.forEach((v, i) => {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new CliError(`${source}: item ${i} (${JSON.stringify(v)}) is not an integer code`);
    });
    return flat as number[];
  }
  const parts = trimmed.split(/[\s,]+/).filter((p) => p.length > 0);
  return parts.map((p, i) => {
    if (!/^-?\d+$/.test(p)) throw new CliError(`${source}: '${p}' (item ${i}) is not an integer code`);
    return Number(p);
  });
}

async function decodeImage(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { tokenizer: { type: 'string', short: 't' }, output: { type: 'string', short: 'o' }, threads: { type: 'string' } });
  if (values.help) return console.log(IMAGE_USAGE);
  if (positionals.length !== 1) throw new CliError('decode needs exactly one codes file (JSON): cm3leon tokenizer decode codes.json -o out.png');
  if (values.output === undefined) throw new CliError('decode needs -o out.png');
  await threads(values.threads);
  let text: string;
  try {
    text = readFileSync(positionals[0]! === '-' ? 0 : positionals[0]!, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${positionals[0]}: ${(e as Error).message}`);
  }
  const codes = parseCodes(text, positionals[0]!);
  const tok = await loadImageTokenizer(values.tokenizer as string | undefined);
  const [image] = tok.decode([codes]);
  writeImageFile(String(values.output), image!);
  console.log(`wrote ${String(values.output)} (${image!.width}x${image!.height}) from a ${tok.grid}x${tok.grid} grid`);
}

async function roundtrip(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { tokenizer: { type: 'string', short: 't' }, output: { type: 'string', short: 'o' }, threads: { type: 'string' } });
  if (values.help) return console.log(IMAGE_USAGE);
  if (positionals.length !== 1) throw new CliError('roundtrip needs exactly one image file: cm3leon tokenizer roundtrip image.png -o out.png');
  await threads(values.threads);
  const original = await readImageFile(positionals[0]!);
  const tok = await loadImageTokenizer(values.tokenizer as string | undefined);
  const { images } = tok.roundTrip([original]);
  const recon = images[0]!;
  const { psnr, ssim, resizeRgb } = await vq();
  // Compared with the input after the same resize the tokenizer applies before encoding.
  const reference = original.width === tok.imageSize && original.height === tok.imageSize ? original : resizeRgb(original, tok.imageSize);
  if (values.output !== undefined) writeImageFile(String(values.output), recon);
  const resized = reference === original ? '' : ` (compared with the input resized from ${original.width}x${original.height})`;
  console.log(`PSNR ${psnr(reference, recon).toFixed(2)} dB, SSIM ${ssim(reference, recon).toFixed(4)}${resized}; ${tok.grid}x${tok.grid} = ${tok.grid * tok.grid} codes` +
    (values.output !== undefined ? `; wrote ${String(values.output)}` : ''));
}

async function evalImage(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    tokenizer: { type: 'string', short: 't' }, data: { type: 'string' }, limit: { type: 'string' }, sheet: { type: 'string' },
    json: { type: 'boolean' }, threads: { type: 'string' }, split: { type: 'string' },
  });
  if (values.help) return console.log(IMAGE_USAGE);
  if (positionals.length > 0) throw new CliError(`eval-image takes no positional arguments (got '${positionals[0]}')`);
  await threads(values.threads);
  const tok = await loadImageTokenizer(values.tokenizer as string | undefined);
  const split = String(values.split ?? 'heldout');
  if (split !== 'heldout' && split !== 'train') throw new CliError(`--split must be heldout or train, got '${split}'`);
  const { evaluateTokenizer, formatEvaluation } = await import('../tokenizers/vq/evaluate.js');
  const dirs = String(values.data ?? 'data/shapes,data/emoji').split(',').filter((d) => d.length > 0);
  const r = await evaluateTokenizer(tok, {
    dirs, split, limitPerDataset: values.limit === undefined ? undefined : num(values.limit, 'limit', 0),
    sheet: values.sheet === undefined ? undefined : String(values.sheet),
  });
  console.log(values.json ? JSON.stringify(r, null, 2) : formatEvaluation(r));
}
