/** Argument parsing shared by the CLI commands: strict options plus positionals, errors as CliError with the usage. */
import { parseArgs } from 'node:util';
import { CliError } from './errors.js';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;
export type Parsed = { values: Record<string, string | boolean | undefined>; positionals: string[] };

/** Parses args against options (plus -h/--help); a bad flag becomes a CliError followed by the usage. */
export function parseCommand(args: string[], options: OptionSpec, usage: string): Parsed {
  try {
    const spec = { ...options, help: { type: 'boolean' as const, short: 'h' } };
    return parseArgs({ args, options: spec, allowPositionals: true, strict: true }) as Parsed;
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${usage}`);
  }
}
