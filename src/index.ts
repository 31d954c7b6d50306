/**
 * cm3leon: the library entry. Importing it registers the CPU backends.
 *
 *   import { Cm3leon } from 'cm3leon';
 *   const m = await Cm3leon.load();                       // the shipped model, decoder on the CPU
 *   const { image } = await m.generate('a red circle', { cfg: 5, seed: 0 });
 *   const text = await m.caption(image);
 *
 * The engine (tensors, autograd, nn) is exported flat, as before; the model, its pipeline,
 * retrieval, tokenizers and datasets by name, and each layer whole as a namespace (`data`,
 * `tokenizers`, `retrieval`) for everything else.
 */
export { cpuInfo, setNumThreads } from './backends/cpu/index.js';
export * from './tensor/index.js';
export * from './nn/index.js';
export { selectDevice, resolveDevice, parseDevice, initWebGpu, webGpuAvailable, type DeviceName, type WebGpuBackend, type WebGpuOptions } from './backends/index.js';

// The model and what it does.
export {
  Cm3leon, DEFAULT_MODEL_DIR, MODEL_INFO,
  type GenerateImageOptions, type GeneratedImage, type ImageInput, type ImageOptions, type LoadOptions, type ModelInfo, type PartialImage,
} from './decoding/pipeline.js';
export { generateSamples, type Sample, type SampleOptions } from './decoding/samples.js';
export { DEFAULT_ENCODER_DIR, retrieveDocuments, type RetrieveOptions } from './decoding/retrieval-context.js';
export { rerankByClip, clipScores } from './decoding/rerank.js';
export { Decoder } from './model/decoder.js';
export { presets, presetConfig, type DecoderConfig, type PresetName } from './model/config.js';
export { loadDecoder, saveDecoder } from './model/checkpoint.js';
export { readModelInfo, saveModelDir, ModelDirError } from './model/model-dir.js';

// Retrieval: the memory bank, the bi-encoder, the retriever.
export { MemoryBank, openMemoryBank, buildMemoryBank, Retriever, ClipEncoder, HashEncoder, applyRules, RetrievalInputError, type RetrievedDocument } from './retrieval/index.js';

// Tokenizers.
export { MultimodalTokenizer } from './tokenizers/multimodal.js';
export { BpeTokenizer, ImageTokenizer, Vocabulary, TokenizerError } from './tokenizers/index.js';

// Datasets and images.
export { openDataset, buildShapes, buildEmoji, parseShapes, renderScene, sceneAt, readImage, writeImage, decodePng, encodePng, readPng, writePng, DataInputError, type RgbImage } from './data/index.js';

export * as data from './data/index.js';
export * as tokenizers from './tokenizers/index.js';
export * as retrieval from './retrieval/index.js';
