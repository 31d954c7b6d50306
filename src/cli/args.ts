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

export interface NumberRule {
  /** Default when the flag is absent (undefined: the flag is optional and may stay undefined). */
  fallback?: number;
  integer?: boolean;
  min?: number;
  max?: number;
}

/** A numeric flag, checked before any work: finite, integer when asked, within [min, max]. */
export function numberOption(values: Parsed['values'], name: string, rule: NumberRule & { fallback: number }): number;
export function numberOption(values: Parsed['values'], name: string, rule?: NumberRule): number | undefined;
export function numberOption(values: Parsed['values'], name: string, rule: NumberRule = {}): number | undefined {
  const raw = values[name];
  if (raw === undefined) return rule.fallback;
  const text = String(raw).trim();
  const n = text === '' ? NaN : Number(text);
  const what = rule.integer ? 'an integer' : 'a number';
  const range = rule.min !== undefined && rule.max !== undefined ? ` in [${rule.min}, ${rule.max}]` : rule.min !== undefined ? ` >= ${rule.min}` : rule.max !== undefined ? ` <= ${rule.max}` : '';
  if (!Number.isFinite(n) || (rule.integer && !Number.isInteger(n)) || (rule.min !== undefined && n < rule.min) || (rule.max !== undefined && n > rule.max)) {
    throw new CliError(`--${name} must be ${what}${range}, got '${String(raw)}'`);
  }
  return n;
}

/** A seed: an integer in [0, 2^32 - 1] (larger or fractional values would silently alias others). */
export function seedOption(values: Parsed['values'], name = 'seed'): number {
  return numberOption(values, name, { fallback: 0, integer: true, min: 0, max: 2 ** 32 - 1 });
}

