/**
 * `cm3leon retrieve ...`: build a memory bank from datasets and query it with a text or an image.
 * Argument handling only; the work is in src/retrieval. Not the retrieval-augmented training or
 * generation (those will call src/retrieval directly).
 */
import { existsSync } from 'node:fs';
import { parseCommand } from './args.js';
import { CliError } from './errors.js';

export const summary = 'build and query the retrieval memory bank';

const USAGE = `usage:
  cm3leon retrieve build --data data/emoji,data/shapes -o data/memory-bank [--limit N]
  cm3leon retrieve query "<text>" --bank data/memory-bank [--k 4] [--rules]
  cm3leon retrieve query --image picture.png --bank data/memory-bank [--k 4] [--rules]

  Only training-split documents go into a bank. The encoder is the untrained hash baseline
  (hash-baseline); the trained bi-encoder is to come.
  --rules applies the paper's rules (modality first, skip near-copies > 0.9 and near-duplicates).`;

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

async function build(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    data: { type: 'string' }, out: { type: 'string', short: 'o' }, limit: { type: 'string' },
  });
  if (values.help) return console.log(USAGE);
  if (positionals.length) throw new CliError(`unexpected argument '${positionals[0]}'`);
  if (!values.data) throw new CliError(`--data is required (comma-separated dataset directories)\n\n${USAGE}`);
  if (!values.out) throw new CliError(`-o is required (where to write the memory bank)\n\n${USAGE}`);
  const data = String(values.data).split(',').filter((d) => d.length > 0);
  for (const d of data) if (!existsSync(d)) throw new CliError(`dataset ${d} does not exist; build it with \`cm3leon data build\``);
  const { buildMemoryBank } = await import('../retrieval/build-bank.js');
  const { HashEncoder } = await import('../retrieval/encoders.js');
  const encoder = new HashEncoder();
  const info = await userErrors(() => buildMemoryBank({
    data, out: String(values.out), encoder,
    limit: values.limit === undefined ? undefined : positive('limit', values.limit, 1),
    log: (line) => console.error(line),
  }));
  console.log(`memory bank ${String(values.out)}: ${info.counts.rows} documents, dim ${info.dim}, encoder ${info.encoder.name}@${info.encoder.version}, ${info.buildSeconds} s`);
}

async function query(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    bank: { type: 'string' }, k: { type: 'string' }, image: { type: 'string' }, rules: { type: 'boolean' },
  });
  if (values.help) return console.log(USAGE);
  if (!values.bank) throw new CliError(`--bank is required\n\n${USAGE}`);
  const text = positionals.join(' ').trim();
  if (!text && !values.image) throw new CliError(`give a query text or --image picture.png\n\n${USAGE}`);
  if (text && values.image) throw new CliError('give either a query text or --image, not both');
  const k = positive('k', values.k, 4);
  const [{ openMemoryBank }, { encoderByName }, { applyRules }, { readPng }] = await Promise.all([
    import('../retrieval/memory-bank.js'), import('../retrieval/encoders.js'), import('../retrieval/rules.js'), import('../data/image.js'),
  ]);
  await userErrors(async () => {
    const bank = await openMemoryBank(String(values.bank));
    try {
      let encoder;
      try {
        encoder = encoderByName(bank.info.encoder.name);
      } catch (err) {
        throw new CliError(`${String(values.bank)}: ${(err as Error).message}`);
      }
      if (encoder.id.version !== bank.info.encoder.version) {
        throw new CliError(`${String(values.bank)} was built by ${bank.info.encoder.name}@${bank.info.encoder.version}, this build has @${encoder.id.version}; rebuild the bank`);
      }
      let vector: Float32Array;
      if (values.image) {
        let image;
        try {
          image = readPng(String(values.image));
        } catch (err) {
          throw new CliError(`cannot read image ${String(values.image)}: ${(err as Error).message}`);
        }
        [vector] = (await encoder.embedImage([image])) as [Float32Array];
      } else {
        [vector] = (await encoder.embedText([text])) as [Float32Array];
      }
      const hits = values.rules
        ? applyRules(await bank.search(vector, k * 8, { withVectors: true }), k)
        : await bank.search(vector, k);
      for (const h of hits) console.log(`${h.score.toFixed(4)}  ${h.id}  [${h.kind}${h.imageId ? ` ${h.imageId}` : ''}]  ${h.text ?? ''}`);
    } finally {
      bank.close();
    }
  });
}

export async function run(args: string[]): Promise<void> {
  const [what, ...rest] = args;
  if (what === 'build') return build(rest);
  if (what === 'query') return query(rest);
  if (what === undefined || what === '--help' || what === '-h') return console.log(USAGE);
  throw new CliError(`unknown retrieve command '${what}': expected 'build' or 'query'\n\n${USAGE}`);
}
