#!/usr/bin/env node
/**
 * The `cm3leon` command line. Each command group lives in its own module under src/cli/ and is
 * loaded lazily, so `cm3leon data ...` never pays for loading the tensor engine and vice versa.
 */
import { CliError } from './errors.js';

type CommandModule = { run(args: string[]): Promise<void>; summary: string };

const commands: Record<string, () => Promise<CommandModule>> = {
  bench: () => import('./bench.js'),
  data: () => import('./data.js'),
  tokenizer: () => import('./tokenizer.js'),
  train: () => import('./train.js'),
  eval: () => import('./eval.js'),
  generate: () => import('./generate.js'),
  retrieve: () => import('./retrieve.js'),
  index: () => import('./retrieve.js'),
  caption: async () => {
    const m = await import('./generate.js');
    return { summary: m.summary, run: (args: string[]) => m.run(args, 'caption') };
  },
};

function usage(): string {
  return [
    'usage: cm3leon <command> [options]',
    '',
    'commands:',
    '  generate "<caption>" -o out.png   text-to-image with a trained model',
    '  caption image.png            describe an image with a trained model',
    '  train [--preset small] ...   train a CM3leon model (CM3 objective) on the datasets',
    '  eval [--model DIR] ...       held-out evaluation: image NLL, Shapes accuracy, caption samples',
    '  bench engine [--json]        tensor-engine benchmark (matmul GFLOP/s, GPT training step tokens/s), with PyTorch as peer when installed',
    '  data build emoji|shapes ...  build a dataset (see README)',
    '  index build|query ...        build a retrieval memory bank (datasets or a folder of images), query it',
    '  index train-encoder ...      train the CLIP-style bi-encoder (also: cm3leon retrieve ...)',
    '  data show <dataset> ...      contact sheet of a dataset',
    '  tokenizer train-text ...     train the byte-level BPE text tokenizer',
    '',
    'Run `cm3leon <command> --help` for the options of a command.',
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return;
  }
  const load = commands[name];
  if (!load) throw new CliError(`unknown command '${name}'\n\n${usage()}`);
  const mod = await load();
  await mod.run(rest);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof CliError) {
    console.error(`cm3leon: ${err.message}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
