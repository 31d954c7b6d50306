/**
 * `cm3leon data ...`: build the emoji and Shapes datasets, look at one as a contact sheet, parse a
 * Shapes picture. Argument handling only; the work is in src/data.
 */
import { existsSync } from 'node:fs';
import { parseCommand } from './args.js';
import { CliError } from './errors.js';

export const summary = 'build and inspect datasets';

const USAGE = `usage:
  cm3leon data build emoji  [--size 64] [--out data/emoji] [--styles a,b,...] [--limit N] [--workers N]
  cm3leon data build shapes --n N --seed S [--size 64] [--out data/shapes] [--heldout-fraction 0.1]
  cm3leon data show <dataset-dir> [--n 64] -o sheet.png [--split train|heldout]
  cm3leon data parse <shapes image> [--json]   (PNG, JPEG, WebP, GIF, AVIF or TIFF)
  cm3leon data text <dataset-dir> [<dataset-dir> ...] -o corpus.txt [--split train|heldout]

  emoji sizes: 16, 32, 64, 128; shapes sizes: 32, 64, 128, 256.
  emoji styles: openmoji-color, openmoji-black, twemoji, noto, fluent-flat, fluent-high-contrast.`;

type OptionSpec = Parameters<typeof parseCommand>[1];
const parse = (args: string[], options: OptionSpec) => parseCommand(args, options, USAGE);

function integer(name: string, value: unknown, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new CliError(`--${name} is required\n\n${USAGE}`);
    return fallback;
  }
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || !Number.isSafeInteger(n)) throw new CliError(`--${name} must be a whole number, got '${String(value)}'`);
  return n;
}

/** Turn the data module's input errors into one-line CLI errors. */
async function userErrors<T>(work: () => Promise<T>): Promise<T> {
  const { DataInputError } = await import('../data/errors.js');
  try {
    return await work();
  } catch (err) {
    if (err instanceof DataInputError) throw new CliError(err.message);
    throw err;
  }
}

async function build(args: string[]): Promise<void> {
  const [what, ...rest] = args;
  const log = (line: string): void => console.error(line);
  const { formatReport } = await import('../data/report.js');
  if (what === 'emoji') {
    const { values, positionals } = parse(rest, {
      size: { type: 'string' }, out: { type: 'string' }, styles: { type: 'string' }, limit: { type: 'string' }, workers: { type: 'string' },
    });
    if (values.help) return console.log(USAGE);
    if (positionals.length) throw new CliError(`unexpected argument '${positionals[0]}'`);
    const { buildEmoji } = await import('../data/emoji-build.js');
    const info = await userErrors(() => buildEmoji({
      size: integer('size', values.size, 64),
      out: String(values.out ?? 'data/emoji'),
      styles: values.styles === undefined ? undefined : (String(values.styles).split(',') as never),
      limit: values.limit === undefined ? undefined : integer('limit', values.limit),
      workers: values.workers === undefined ? undefined : integer('workers', values.workers),
      log,
    }));
    console.log(formatReport(info));
    return;
  }
  if (what === 'shapes') {
    const { values, positionals } = parse(rest, {
      n: { type: 'string' }, seed: { type: 'string' }, size: { type: 'string' }, out: { type: 'string' }, 'heldout-fraction': { type: 'string' },
    });
    if (values.help) return console.log(USAGE);
    if (positionals.length) throw new CliError(`unexpected argument '${positionals[0]}'`);
    const fraction = values['heldout-fraction'] === undefined ? 0.1 : Number(values['heldout-fraction']);
    const { buildShapes } = await import('../data/shapes-build.js');
    const info = await userErrors(() => buildShapes({
      n: integer('n', values.n), seed: integer('seed', values.seed), size: integer('size', values.size, 64),
      out: String(values.out ?? 'data/shapes'), heldOutFraction: fraction, log,
    }));
    console.log(formatReport(info));
    return;
  }
  throw new CliError(`data build: expected 'emoji' or 'shapes', got ${what === undefined ? 'nothing' : `'${what}'`}\n\n${USAGE}`);
}

async function show(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { n: { type: 'string' }, o: { type: 'string', short: 'o' }, out: { type: 'string' }, split: { type: 'string' } });
  if (values.help) return console.log(USAGE);
  const dir = positionals[0];
  if (!dir || positionals.length > 1) throw new CliError(`data show: give one dataset directory\n\n${USAGE}`);
  const out = values['o'] ?? values['out'];
  if (!out) throw new CliError('data show: say where to write the sheet with -o sheet.png');
  const split = values.split;
  if (split !== undefined && split !== 'train' && split !== 'heldout') throw new CliError(`--split must be 'train' or 'heldout', got '${String(split)}'`);
  if (!existsSync(dir)) throw new CliError(`data show: ${dir} does not exist`);
  const { openDataset } = await import('../data/store.js');
  const { writeContactSheet } = await import('../data/contact-sheet.js');
  await userErrors(async () => {
    const dataset = await openDataset(dir);
    try {
      const count = await writeContactSheet(dataset, String(out), { n: integer('n', values.n, 64), split });
      console.log(`wrote ${out}: ${count} images of ${dataset.info.kind} (${dataset.info.counts.images} images, ${dataset.info.counts.pairs} pairs in the dataset)`);
    } finally {
      dataset.close();
    }
  });
}

async function parseImage(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' } });
  if (values.help) return console.log(USAGE);
  const file = positionals[0];
  if (!file) throw new CliError(`data parse: give an image file\n\n${USAGE}`);
  if (!existsSync(file)) throw new CliError(`data parse: ${file} does not exist`);
  const { readImage } = await import('../data/image-io.js');
  const { parseShapes } = await import('../data/shapes-parse.js');
  // Read at its own size: the parser takes any size (it reduces large pictures itself) and reports
  // positions relative to the whole picture, which a square crop would change.
  const scene = await userErrors(async () => parseShapes(await readImage(file)));
  if (values.json) return console.log(JSON.stringify(scene, null, 2));
  console.log(`background: ${scene.background}`);
  for (const o of scene.objects) {
    console.log(`${o.size} ${o.colour} ${o.shape} (${o.box[0]}, ${o.box[1]}) -> (${o.box[2]}, ${o.box[3]})  fit ${o.fit.toFixed(2)}`);
  }
}

/** Every distinct text of the datasets' split, one per line (the text tokenizer's corpus). */
async function text(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { o: { type: 'string', short: 'o' }, split: { type: 'string' } });
  if (values.help) return console.log(USAGE);
  if (positionals.length === 0) throw new CliError(`data text: give one or more dataset directories\n\n${USAGE}`);
  if (!values.o) throw new CliError('data text: say where to write the corpus with -o corpus.txt');
  const split = values.split ?? 'train';
  if (split !== 'train' && split !== 'heldout') throw new CliError(`--split must be 'train' or 'heldout', got '${String(split)}'`);
  for (const dir of positionals) if (!existsSync(dir)) throw new CliError(`data text: ${dir} does not exist`);
  const { openDataset } = await import('../data/store.js');
  const { collectTexts } = await import('../data/text-corpus.js');
  const { writeFileSync } = await import('node:fs');
  const lines: string[] = [];
  await userErrors(async () => {
    for (const dir of positionals) {
      const dataset = await openDataset(dir);
      try {
        const texts = await collectTexts(dataset, split);
        console.error(`${dir}: ${texts.length} distinct texts (${split})`);
        lines.push(...texts);
      } finally {
        dataset.close();
      }
    }
  });
  writeFileSync(String(values.o), `${lines.join('\n')}\n`);
  console.log(`wrote ${values.o}: ${lines.length} lines`);
}

export async function run(args: string[]): Promise<void> {
  const [command, ...rest] = args;
  switch (command) {
    case 'build':
      return build(rest);
    case 'show':
      return show(rest);
    case 'parse':
      return parseImage(rest);
    case 'text':
      return text(rest);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      console.log(USAGE);
      return;
    default:
      throw new CliError(`data: unknown command '${command}'\n\n${USAGE}`);
  }
}
