/** `cm3leon tokenizer ...` — placeholder until the tokenizers land. */
import { CliError } from './errors.js';
export const summary = 'train and run tokenizers';
export async function run(_args: string[]): Promise<void> {
  throw new CliError('tokenizer: not available yet');
}
