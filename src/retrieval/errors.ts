/** An error caused by the user's input to retrieval (a missing or mismatched bank, a bad vector): one clear line. */
export class RetrievalInputError extends Error {
  override name = 'RetrievalInputError';
}
