/**
 * Pixels in and out of the image tokenizer: RGB bytes <-> (B, 3, S, S) floats in [-1, 1], resizing
 * to the tokenizer's size (area averaging down, bilinear up), and the two image-quality metrics the
 * evaluation reports, PSNR and SSIM (Wang et al. 2004: Gaussian window 11, sigma 1.5, K1 0.01,
 * K2 0.03, per RGB channel then averaged, over the valid region).
 */
import type { RgbImage } from '../../data/image.js';
import { TokenizerError } from '../errors.js';

/** Checks an RgbImage is well formed (sizes, byte count). */
export function checkRgb(image: RgbImage, what = 'image'): void {
  const { width, height, rgb } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new TokenizerError(`${what}: invalid size ${width}x${height}`);
  }
  if (!(rgb instanceof Uint8Array) || rgb.length !== width * height * 3) {
    throw new TokenizerError(`${what}: expected ${width * height * 3} RGB bytes for ${width}x${height}, got ${rgb?.length ?? 'none'}`);
  }
}

/** Resizes to size x size: box (area) averaging when shrinking, bilinear when enlarging. Square crops are not taken: a non-square image is stretched. */
export function resizeRgb(image: RgbImage, size: number): RgbImage {
  checkRgb(image);
  const { width: w, height: h, rgb } = image;
  if (w === size && h === size) return image;
  const out = new Uint8Array(size * size * 3);
  const sx = w / size, sy = h / size;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const q = (y * size + x) * 3;
      if (sx >= 1 && sy >= 1) {
        // Area average over the source rectangle [x*sx, (x+1)*sx) x [y*sy, (y+1)*sy), with partial pixels weighted.
        const x0 = x * sx, x1 = (x + 1) * sx, y0 = y * sy, y1 = (y + 1) * sy;
        const acc = [0, 0, 0];
        let wsum = 0;
        for (let yy = Math.floor(y0); yy < Math.ceil(y1); yy++) {
          const wy = Math.min(yy + 1, y1) - Math.max(yy, y0);
          for (let xx = Math.floor(x0); xx < Math.ceil(x1); xx++) {
            const wx = Math.min(xx + 1, x1) - Math.max(xx, x0);
            const p = (Math.min(yy, h - 1) * w + Math.min(xx, w - 1)) * 3;
            const wt = wx * wy;
            acc[0]! += rgb[p]! * wt; acc[1]! += rgb[p + 1]! * wt; acc[2]! += rgb[p + 2]! * wt;
            wsum += wt;
          }
        }
        for (let c = 0; c < 3; c++) out[q + c] = Math.round(acc[c]! / wsum);
      } else {
        // Bilinear at pixel centres (align_corners = false), edges clamped.
        const fx = Math.min(w - 1, Math.max(0, (x + 0.5) * sx - 0.5));
        const fy = Math.min(h - 1, Math.max(0, (y + 0.5) * sy - 0.5));
        const xa = Math.floor(fx), ya = Math.floor(fy);
        const xb = Math.min(w - 1, xa + 1), yb = Math.min(h - 1, ya + 1);
        const ax = fx - xa, ay = fy - ya;
        for (let c = 0; c < 3; c++) {
          const v00 = rgb[(ya * w + xa) * 3 + c]!, v01 = rgb[(ya * w + xb) * 3 + c]!;
          const v10 = rgb[(yb * w + xa) * 3 + c]!, v11 = rgb[(yb * w + xb) * 3 + c]!;
          out[q + c] = Math.round((v00 * (1 - ax) + v01 * ax) * (1 - ay) + (v10 * (1 - ax) + v11 * ax) * ay);
        }
      }
    }
  }
  return { width: size, height: size, rgb: out };
}

/** Square RGB byte images of one size -> (B, 3, S, S) floats in [-1, 1], channel-planar. */
export function imagesToFloats(images: readonly Uint8Array[], size: number, flip?: readonly boolean[]): Float32Array {
  const plane = size * size;
  const out = new Float32Array(images.length * 3 * plane);
  images.forEach((rgb, b) => {
    if (rgb.length !== plane * 3) throw new TokenizerError(`image ${b}: ${rgb.length} bytes, expected ${plane * 3} for ${size}x${size} RGB`);
    const base = b * 3 * plane;
    const mirror = flip?.[b] === true;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const p = (y * size + (mirror ? size - 1 - x : x)) * 3;
        const o = y * size + x;
        out[base + o] = rgb[p]! / 127.5 - 1;
        out[base + plane + o] = rgb[p + 1]! / 127.5 - 1;
        out[base + 2 * plane + o] = rgb[p + 2]! / 127.5 - 1;
      }
    }
  });
  return out;
}

/** (B, 3, S, S) floats in [-1, 1] -> RGB images, clamped and rounded. */
export function floatsToImages(data: Float32Array, batch: number, size: number): RgbImage[] {
  const plane = size * size;
  const out: RgbImage[] = [];
  for (let b = 0; b < batch; b++) {
    const rgb = new Uint8Array(plane * 3);
    const base = b * 3 * plane;
    for (let o = 0; o < plane; o++) {
      for (let c = 0; c < 3; c++) {
        const v = Math.round((data[base + c * plane + o]! + 1) * 127.5);
        rgb[o * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
    out.push({ width: size, height: size, rgb });
  }
  return out;
}

/** Mean squared error over all bytes of two same-sized images. */
export function mse(a: RgbImage, b: RgbImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new TokenizerError(`mse: sizes differ (${a.width}x${a.height} vs ${b.width}x${b.height})`);
  let s = 0;
  for (let i = 0; i < a.rgb.length; i++) {
    const d = a.rgb[i]! - b.rgb[i]!;
    s += d * d;
  }
  return s / a.rgb.length;
}

/** PSNR in dB for 8-bit images (Infinity when identical). */
export function psnr(a: RgbImage, b: RgbImage): number {
  const m = mse(a, b);
  return m === 0 ? Infinity : 10 * Math.log10((255 * 255) / m);
}

const SSIM_RADIUS = 5;
const SSIM_WINDOW = ((): Float64Array => {
  const g = Float64Array.from({ length: 2 * SSIM_RADIUS + 1 }, (_, i) => Math.exp(-((i - SSIM_RADIUS) ** 2) / (2 * 1.5 * 1.5)));
  const s = g.reduce((x, y) => x + y, 0);
  return g.map((v) => v / s);
})();

/** Mean SSIM over the valid positions and the three channels. */
export function ssim(a: RgbImage, b: RgbImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new TokenizerError(`ssim: sizes differ (${a.width}x${a.height} vs ${b.width}x${b.height})`);
  const { width: w, height: h } = a;
  const r = SSIM_RADIUS;
  if (w <= 2 * r || h <= 2 * r) throw new TokenizerError(`ssim: images of ${w}x${h} are smaller than the 11x11 window`);
  const c1 = (0.01 * 255) ** 2, c2 = (0.03 * 255) ** 2;
  const win = SSIM_WINDOW;
  let total = 0;
  let count = 0;
  const plane = w * h;
  const fa = new Float64Array(plane), fb = new Float64Array(plane);
  // Separable Gaussian sums of x, y, x^2, y^2, xy over each valid window.
  const blurRows = (src: Float64Array): Float64Array => {
    const out = new Float64Array((w - 2 * r) * h);
    for (let y = 0; y < h; y++) for (let x = r; x < w - r; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += win[k + r]! * src[y * w + x + k]!;
      out[y * (w - 2 * r) + x - r] = s;
    }
    return out;
  };
  const blurCols = (src: Float64Array): Float64Array => {
    const vw = w - 2 * r;
    const out = new Float64Array(vw * (h - 2 * r));
    for (let y = r; y < h - r; y++) for (let x = 0; x < vw; x++) {
      let s = 0;
      for (let k = -r; k <= r; k++) s += win[k + r]! * src[(y + k) * vw + x]!;
      out[(y - r) * vw + x] = s;
    }
    return out;
  };
  const blur = (src: Float64Array): Float64Array => blurCols(blurRows(src));
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < plane; p++) {
      fa[p] = a.rgb[p * 3 + c]!;
      fb[p] = b.rgb[p * 3 + c]!;
    }
    const ma = blur(fa), mb = blur(fb);
    const aa = blur(fa.map((v) => v * v)), bb = blur(fb.map((v) => v * v)), ab = blur(fa.map((v, i) => v * fb[i]!));
    for (let i = 0; i < ma.length; i++) {
      const mua = ma[i]!, mub = mb[i]!;
      const va = aa[i]! - mua * mua, vb = bb[i]! - mub * mub, cov = ab[i]! - mua * mub;
      total += ((2 * mua * mub + c1) * (2 * cov + c2)) / ((mua * mua + mub * mub + c1) * (va + vb + c2));
      count++;
    }
  }
  return total / count;
}
