/**
 * RGB images as plain bytes (row-major, 3 bytes a pixel, no alpha) and the few operations the data
 * builders need: PNG in/out, alpha compositing, box downsampling, blur and noise (to imitate what a
 * lossy image tokenizer does to a picture). Not a general image library: no colour management,
 * no resampling beyond integer factors.
 */
import { DataInputError } from './errors.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import type { Rng } from './rng.js';

/** An RGB image: `rgb` holds height * width * 3 bytes. */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

export type Colour = readonly [number, number, number];

export function createImage(width: number, height: number, fill: Colour = [255, 255, 255]): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i += 3) {
    rgb[i] = fill[0];
    rgb[i + 1] = fill[1];
    rgb[i + 2] = fill[2];
  }
  return { width, height, rgb };
}

/** Composite straight (non-premultiplied) RGBA over a solid background. */
export function rgbaOver(rgba: Uint8Array, width: number, height: number, bg: Colour = [255, 255, 255]): RgbImage {
  if (rgba.length !== width * height * 4) throw new Error(`rgbaOver: expected ${width * height * 4} bytes, got ${rgba.length}`);
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) {
    const a = rgba[p + 3]! / 255;
    rgb[q] = Math.round(rgba[p]! * a + bg[0] * (1 - a));
    rgb[q + 1] = Math.round(rgba[p + 1]! * a + bg[1] * (1 - a));
    rgb[q + 2] = Math.round(rgba[p + 2]! * a + bg[2] * (1 - a));
  }
  return { width, height, rgb };
}

export function encodePng(image: RgbImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(image.rgb.buffer, image.rgb.byteOffset, image.rgb.byteLength);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false });
}

/** Decode any PNG (grey, palette, 16-bit, alpha: alpha is composited over white). */
export function decodePng(bytes: Uint8Array): RgbImage {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new DataInputError(`not a readable PNG: ${(err as Error).message}`);
  }
  return rgbaOver(new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength), png.width, png.height);
}

export function writePng(path: string, image: RgbImage): void {
  writeFileSync(path, encodePng(image));
}

export function readPng(path: string): RgbImage {
  return decodePng(readFileSync(path));
}

/** Average each factor x factor block (the low-resolution side of super-resolution pairs). */
export function downsample(image: RgbImage, factor: number): RgbImage {
  const { width, height, rgb } = image;
  if (!Number.isInteger(factor) || factor < 1 || width % factor || height % factor) {
    throw new Error(`downsample: factor ${factor} does not divide ${width}x${height}`);
  }
  const w = width / factor, h = height / factor, n = factor * factor;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let r = 0, g = 0, b = 0;
      for (let dy = 0; dy < factor; dy++) {
        let p = ((y * factor + dy) * width + x * factor) * 3;
        for (let dx = 0; dx < factor; dx++, p += 3) {
          r += rgb[p]!;
          g += rgb[p + 1]!;
          b += rgb[p + 2]!;
        }
      }
      const q = (y * w + x) * 3;
      out[q] = Math.round(r / n);
      out[q + 1] = Math.round(g / n);
      out[q + 2] = Math.round(b / n);
    }
  }
  return { width: w, height: h, rgb: out };
}

/** Nearest-neighbour enlargement by an integer factor (for contact sheets). */
export function upsampleNearest(image: RgbImage, factor: number): RgbImage {
  const w = image.width * factor, h = image.height * factor;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (Math.floor(y / factor) * image.width + Math.floor(x / factor)) * 3;
      const q = (y * w + x) * 3;
      out[q] = image.rgb[p]!;
      out[q + 1] = image.rgb[p + 1]!;
      out[q + 2] = image.rgb[p + 2]!;
    }
  }
  return { width: w, height: h, rgb: out };
}

/** Separable Gaussian blur with clamped edges. */
export function gaussianBlur(image: RgbImage, sigma: number): RgbImage {
  if (sigma <= 0) return { ...image, rgb: image.rgb.slice() };
  const radius = Math.ceil(3 * sigma);
  const kernel: number[] = [];
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    kernel.push(v);
    sum += v;
  }
  for (let i = 0; i < kernel.length; i++) kernel[i]! /= sum;
  const { width, height } = image;
  const pass = (src: Float32Array, horizontal: boolean): Float32Array => {
    const dst = new Float32Array(src.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let r = 0, g = 0, b = 0;
        for (let k = -radius; k <= radius; k++) {
          const xx = horizontal ? Math.min(width - 1, Math.max(0, x + k)) : x;
          const yy = horizontal ? y : Math.min(height - 1, Math.max(0, y + k));
          const p = (yy * width + xx) * 3, w = kernel[k + radius]!;
          r += src[p]! * w;
          g += src[p + 1]! * w;
          b += src[p + 2]! * w;
        }
        const q = (y * width + x) * 3;
        dst[q] = r;
        dst[q + 1] = g;
        dst[q + 2] = b;
      }
    }
    return dst;
  };
  const out = pass(pass(Float32Array.from(image.rgb), true), false);
  return { width, height, rgb: Uint8Array.from(out, (v) => Math.max(0, Math.min(255, Math.round(v)))) };
}

/** Add independent Gaussian noise of the given standard deviation (in 0-255 levels) to every byte. */
export function addNoise(image: RgbImage, sigma: number, rng: Rng): RgbImage {
  const rgb = Uint8Array.from(image.rgb, (v) => Math.max(0, Math.min(255, Math.round(v + sigma * rng.normal()))));
  return { width: image.width, height: image.height, rgb };
}

/** Copy `src` into `dst` with its top-left corner at (x, y), clipped to `dst`. */
export function blit(dst: RgbImage, src: RgbImage, x: number, y: number): void {
  for (let sy = 0; sy < src.height; sy++) {
    const dy = y + sy;
    if (dy < 0 || dy >= dst.height) continue;
    for (let sx = 0; sx < src.width; sx++) {
      const dx = x + sx;
      if (dx < 0 || dx >= dst.width) continue;
      const p = (sy * src.width + sx) * 3, q = (dy * dst.width + dx) * 3;
      dst.rgb[q] = src.rgb[p]!;
      dst.rgb[q + 1] = src.rgb[p + 1]!;
      dst.rgb[q + 2] = src.rgb[p + 2]!;
    }
  }
}
