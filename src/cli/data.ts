/** `cm3leon data ...` — placeholder until the datasets module lands. */
import { CliError } from './errors.js';
export const summary = 'build and inspect datasets';
export async function run(_args: string[]): Promise<void> {
  throw new CliError('data: not available yet');
}
