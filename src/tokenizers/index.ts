/**
 * The tokenizers' public surface: byte-level BPE text tokenizer (train, encode, decode,
 * tokenizer.json), the model-wide vocabulary layout, mixed-modal documents, and the VQ image
 * tokenizer (src/tokenizers/vq; importing it loads the tensor engine).
 */
export { BpeTokenizer, type BpeModel, type DecodeOptions, type EncodeOptions, type SpecialToken } from './bpe.js';
export { trainBpe, trainBpeModel, type TrainBpeOptions } from './bpe-train.js';
export { type LoneSurrogatePolicy } from './byte-level.js';
export {
  DocumentCodec,
  imageSegment,
  textSegment,
  type DecodedDocuments,
  type Document,
  type DocumentEnd,
  type EncodeDocumentsOptions,
  type ImageSegment,
  type Segment,
  type TextCodec,
  type TextSegment,
} from './document.js';
export { TokenizerError } from './errors.js';
export { fromTokenizerJson, loadTokenizerJson, saveTokenizerJson, toTokenizerJson } from './tokenizer-json.js';
export {
  BREAK,
  EOS,
  INFILL,
  MASK,
  PAD,
  Vocabulary,
  cm3leonSpecialTokens,
  maskSentinel,
  type TokenKind,
  type VocabularyConfig,
} from './vocabulary.js';
export * from './vq/index.js';
