/** An error caused by the user's input (arguments, files): printed as one clear line, exit code 2. */
export class CliError extends Error {
  override name = 'CliError';
}
