/** An error caused by what the user gave (options, files, missing packages): the CLI prints its message alone. */
export class DataInputError extends Error {
  override name = 'DataInputError';
}
