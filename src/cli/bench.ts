/**
 * `cm3leon bench engine [--json] [--quick] [--no-peer] [--steps N]`: checks the flags, then runs the
 * engine benchmark script (bench/engine.ts) in a child process: the library never imports bench/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CliError } from './errors.js';

export const summary = 'benchmarks';

export async function run(args: string[]): Promise<void> {
  const [what, ...rest] = args;
  if (what !== 'engine') throw new CliError(`bench: unknown benchmark '${what ?? ''}' (available: engine)`);
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { json: { type: 'boolean' }, quick: { type: 'boolean' }, 'no-peer': { type: 'boolean' }, steps: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    throw new CliError(`bench engine: ${(err as Error).message}`);
  }
  if (values.help) {
    console.log('usage: cm3leon bench engine [--json] [--quick] [--no-peer] [--steps N]\n\nmatmul GFLOP/s at n=1024/2048 and GPT training-step tokens/s, with PyTorch CPU as the peer when installed.');
    return;
  }
  const steps = values.steps === undefined ? undefined : Number(values.steps);
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) throw new CliError(`bench engine: --steps must be a positive integer, got '${values.steps}'`);
  const script = fileURLToPath(new URL('../../bench/engine.js', import.meta.url));
  if (!existsSync(script)) throw new CliError(`bench engine: ${script} not found (the benchmarks ship with the repository; run npm run build)`);
  const r = spawnSync(process.execPath, [script, ...rest], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}
