/**
 * Public API of the retrieval module: the memory bank (LanceDB, exact or ANN search) and the
 * `VectorStore` interface a remote store can implement, the bi-encoder interface with its untrained
 * baseline, the paper's retrieval rules, and building a bank from datasets.
 *
 *   const encoder = new HashEncoder();
 *   const bank = await openMemoryBank('data/memory-bank', { encoder: encoder.id });
 *   const [q] = await encoder.embedText(['a red circle']);
 *   const docs = applyRules(await bank.search(q!, 32, { withVectors: true }), 2);
 */
export {
  AUTO_INDEX_ROWS, filterSql, MemoryBank, MemoryBankWriter, MIN_INDEX_ROWS, openMemoryBank,
  type IndexChoice, type IndexSpec, type MemoryBankSearchOptions,
} from './memory-bank.js';
export {
  calibrateEffort, CALIBRATION_NOISE, perturb, randomUnit, recallAt, smallestEffort,
  type AnnIndexInfo, type AnnIndexType, type BankFilter, type BankHit, type BankInfo, type BankRow, type DocumentKind, type EncoderId,
  type CalibrationOptions, type StoreSearchOptions, type VectorStore,
} from './store.js';
export { embedDocuments, HashEncoder, imageFeatures, textFeatures, type BiEncoder, type DocumentInput, type HashEncoderOptions } from './encoders.js';
export * from './rules.js';
export { buildMemoryBank, shrink, type BuildBankOptions } from './build-bank.js';
export { dot, normalise, normalisedMean, isUnitLength } from './vectors.js';
export { RetrievalInputError } from './errors.js';
export { ClipModel, defaultClipConfig, type ClipConfig } from './clip.js';
export { ClipEncoder } from './clip-encoder.js';
export { evaluateClip, loadClipItems, type ClipEvalResult, type ClipItem } from './clip-eval.js';
export { Retriever, ensureDefaultBank, cacheDir, type RetrievedDocument, type RetrieverOptions } from './retriever.js';
export { buildCollectionBank, listCollection } from './collection.js';
