/**
 * A minimal line plot rasterised to PNG (loss curves): axes, light grid lines, one or more series,
 * min/max labels drawn with the data module's bitmap font. Not a charting library.
 */
import { createImage, encodePng, type Colour, type RgbImage } from '../data/index.js';
import { drawText } from '../data/bitmap-font.js';
import { writeFileAtomic } from '../nn/index.js';

export interface Series {
  points: [number, number][];
  colour: Colour;
}

function line(img: RgbImage, x0: number, y0: number, x1: number, y1: number, c: Colour): void {
  const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
  for (let i = 0; i <= n; i++) {
    const x = Math.round(x0 + ((x1 - x0) * i) / n);
    const y = Math.round(y0 + ((y1 - y0) * i) / n);
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) continue;
    const o = (y * img.width + x) * 3;
    img.rgb[o] = c[0];
    img.rgb[o + 1] = c[1];
    img.rgb[o + 2] = c[2];
  }
}

export function plotSeries(series: Series[], o: { width?: number; height?: number; title?: string } = {}): RgbImage {
  const width = o.width ?? 640;
  const height = o.height ?? 360;
  const img = createImage(width, height);
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const [left, right, top, bottom] = [48, width - 12, 20, height - 24];
  line(img, left, bottom, right, bottom, [0, 0, 0]);
  line(img, left, top, left, bottom, [0, 0, 0]);
  if (o.title) drawText(img, o.title, left, 4, [0, 0, 0]);
  if (all.length === 0) return img;
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [xmin, xmax] = [Math.min(...xs), Math.max(...xs)];
  const [ymin, ymax] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number): number => left + ((x - xmin) / (xmax - xmin || 1)) * (right - left);
  const sy = (y: number): number => bottom - ((y - ymin) / (ymax - ymin || 1)) * (bottom - top);
  for (let k = 1; k < 4; k++) line(img, left + 1, Math.round(top + (k * (bottom - top)) / 4), right, Math.round(top + (k * (bottom - top)) / 4), [225, 225, 225]);
  drawText(img, ymax.toPrecision(3), 2, top, [0, 0, 0]);
  drawText(img, ymin.toPrecision(3), 2, bottom - 8, [0, 0, 0]);
  drawText(img, String(xmin), left, bottom + 6, [0, 0, 0]);
  drawText(img, String(xmax), right - 6 * String(xmax).length, bottom + 6, [0, 0, 0]);
  for (const s of series) {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    for (let i = 1; i < pts.length; i++) line(img, Math.round(sx(pts[i - 1]![0])), Math.round(sy(pts[i - 1]![1])), Math.round(sx(pts[i]![0])), Math.round(sy(pts[i]![1])), s.colour);
  }
  return img;
}

export function writePlot(path: string, series: Series[], o: { title?: string } = {}): void {
  writeFileAtomic(path, encodePng(plotSeries(series, o)));
}
