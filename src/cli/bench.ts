/** `cm3leon bench engine [--json] [--quick] [--no-peer] [--steps N]`: the engine benchmark (bench/engine.ts). */
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
  const { runEngineBench } = await import('../../bench/engine.js');
  const json = !!values.json;
  const result = await runEngineBench({ quick: values.quick, steps, peer: !values['no-peer'], log: json ? (m) => console.error(m) : (m) => console.log(m) });
  console.log(json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
}
