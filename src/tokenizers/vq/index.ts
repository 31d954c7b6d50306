/** The VQ image tokenizer's public surface: model, config, quantiser utilities, losses, evaluation. */
export { ImageTokenizer, CONFIG_FILE, WEIGHTS_FILE, type ForwardResult } from './image-tokenizer.js';
export { DEFAULT_VQ_CONFIG, gridSize, validateVqConfig, vqConfigFor, vqConfigFromDict, type VqConfig } from './config.js';
export { Quantizer, CodeUsage, argmaxRows, codebookUsage, l2Normalize, restartCandidates, restartCodes, type QuantizeResult } from './quantizer.js';
export { Encoder, Decoder } from './autoencoder.js';
export { checkRgb, floatsToImages, imagesToFloats, mse, psnr, resizeRgb, ssim } from './images.js';
export { DEFAULT_LOSS_WEIGHTS, batchFor, contrastMask, outlineMask, pixelLoss, type LossWeights } from './losses.js';
export { loadImages, type LoadedImage, type LoadOptions } from './dataset.js';
export { comparisonSheet, evaluateTokenizer, formatEvaluation, type Evaluation, type EvaluateOptions } from './evaluate.js';
