/**
 * Public API of the retrieval module: the memory bank, the bi-encoder interface with its untrained
 * baseline, the paper's retrieval rules, and building a bank from datasets.
 *
 *   const encoder = new HashEncoder();
 *   const bank = await openMemoryBank('data/memory-bank', { encoder: encoder.id });
 *   const [q] = await encoder.embedText(['a red circle']);
 *   const docs = applyRules(await bank.search(q!, 32, { withVectors: true }), 2);
 */
export { MemoryBank, MemoryBankWriter, openMemoryBank, type BankHit, type BankInfo, type BankRow, type DocumentKind, type EncoderId } from './memory-bank.js';
export { embedDocuments, encoderByName, HashEncoder, imageFeatures, textFeatures, type BiEncoder, type DocumentInput, type HashEncoderOptions } from './encoders.js';
export * from './rules.js';
export { buildMemoryBank, type BuildBankOptions } from './build-bank.js';
export { dot, normalise, normalisedMean, isUnitLength } from './vectors.js';
export { RetrievalInputError } from './errors.js';
