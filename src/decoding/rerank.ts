/**
 * Reranking N samples of one prompt by CLIP score (paper §3.1: the best of 8 samples by a CLIP
 * model): the cosine, in the bi-encoder's space, between the caption and each image. Any
 * `BiEncoder` works; the project's trained one is `ClipEncoder` (src/retrieval/clip-encoder.ts).
 */
import type { RgbImage } from '../data/image.js';
import type { BiEncoder } from '../retrieval/encoders.js';
import { dot } from '../retrieval/vectors.js';

/** CLIP score of each image for `caption`, in the images' order. */
export async function clipScores(encoder: BiEncoder, caption: string, images: readonly RgbImage[]): Promise<number[]> {
  if (images.length === 0) return [];
  const [text] = await encoder.embedText([caption]);
  const vectors = await encoder.embedImage(images);
  return vectors.map((v) => dot(text!, v));
}

/** Indices of `images`, best CLIP score first (ties: the earlier sample), with their scores. */
export async function rerankByClip(encoder: BiEncoder, caption: string, images: readonly RgbImage[]): Promise<{ index: number; score: number }[]> {
  const scores = await clipScores(encoder, caption, images);
  return scores.map((score, index) => ({ index, score })).sort((a, b) => b.score - a.score || a.index - b.index);
}
