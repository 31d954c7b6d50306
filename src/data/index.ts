/**
 * Public API of the data module: build the emoji and Shapes datasets, open one and stream its
 * images and pairs, parse Shapes pictures, read users' images
 * in any common format (readImage) and write PNG, JPEG or WebP (writeImage).
 *
 *   const ds = await openDataset('data/shapes');
 *   for await (const pair of ds.pairs({ split: 'train', type: 'grounded' })) { ... }
 *   const image = await ds.image(pair.outputImage!);   // { size, rgb: Uint8Array(size*size*3), ... }
 */
export * from './types.js';
export { Dataset, DatasetWriter, openDataset, type ImageQuery, type PairQuery } from './store.js';
export { buildEmoji, lowResolutionFactors, EMOJI_SIZES, KNOWN_CRASHERS, type EmojiBuildOptions } from './emoji-build.js';
export { EMOJI_STYLES, HELD_OUT_SUBGROUPS, STYLE_WORDS, loadCatalog, type EmojiConcept, type EmojiStyle } from './emoji-catalog.js';
export { emojiCaption, emojiImageId } from './emoji-pairs.js';
export { renderSvgs, type RenderOptions, type RenderStats } from './emoji-render.js';
export { buildShapes, sceneAt, sceneId, SHAPES_SIZES, type ShapesBuildOptions } from './shapes-build.js';
export * from './shapes-geometry.js';
export { renderScene, renderSegmentation, type Scene } from './shapes-render.js';
export { sampleScene, sampleEdit, sceneSplit, type SampledScene, type SceneEdit } from './shapes-scene.js';
export { detailedCaption, groundedText, questionsFor, variedCaption, editInstruction } from './shapes-text.js';
export { parseShapes, matchObjects, type ParsedObject, type ParsedScene, type MatchResult } from './shapes-parse.js';
export * from './image.js';
export { readImage, writeImage, isImageFileName, isWritableImageName, IMAGE_EXTENSIONS, DEFAULT_MAX_PIXELS, type ReadImageOptions } from './image-io.js';
export { Rng, hashString } from './rng.js';
export { contactSheet, writeContactSheet } from './contact-sheet.js';
export { formatReport } from './report.js';
export { DataInputError } from './errors.js';
