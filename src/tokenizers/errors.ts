/**
 * The one error type the tokenizers throw for bad input (unknown ids, malformed files, wrong image
 * grids, lone surrogates). Callers such as the CLI turn it into a user-facing message; anything
 * else thrown from src/tokenizers is a bug.
 */
export class TokenizerError extends Error {
  override name = 'TokenizerError';
}
