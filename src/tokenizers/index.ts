/**
 * The tokenizers' public surface: byte-level BPE text tokenizer (train, encode, decode,
 * tokenizer.json), the model-wide vocabulary layout, and mixed-modal documents. The image (VQ)
 * tokenizer will join here; it is deliberately absent until the tensor engine lands.
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
