/**
 * `cm3leon tokenizer ...`: train the byte-level BPE text tokenizer on text files, encode text to
 * ids and decode ids to text with a saved `tokenizer.json`.
 *
 * Deliberately not here (yet): the image tokenizer commands (train-image, image encode/decode),
 * which need the tensor engine, and training on the project's datasets.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CliError } from './errors.js';
import { trainBpe } from '../tokenizers/bpe-train.js';
import { TokenizerError } from '../tokenizers/errors.js';
import { loadTokenizerJson, saveTokenizerJson } from '../tokenizers/tokenizer-json.js';
import { cm3leonSpecialTokens } from '../tokenizers/vocabulary.js';

export const summary = 'train and run tokenizers';

const DEFAULT_TOKENIZER = 'models/text-tokenizer/tokenizer.json';

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
--tokenizer defaults to ${DEFAULT_TOKENIZER}`;

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
    const { runImage } = await import('./tokenizer-image.js');
    if (await runImage(sub, rest)) return;
  } catch (e) {
    if (e instanceof TokenizerError) throw new CliError(`tokenizer ${sub}: ${e.message}`);
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
