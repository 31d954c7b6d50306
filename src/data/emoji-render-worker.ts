/**
 * Child process of the emoji renderer: rasterises SVG documents with resvg on a white background
 * and answers one message per job, so that when resvg aborts the process (it does on a few noto
 * icons) the parent knows exactly which job killed it. Started by emoji-render.ts only.
 */
import { createRequire } from 'node:module';
import type { RenderReply, RenderRequest } from './emoji-render.js';

const require = createRequire(import.meta.url);
const { Resvg } = require('@resvg/resvg-js') as typeof import('@resvg/resvg-js');

function renderOne(svg: string, size: number): Uint8Array {
  const image = new Resvg(svg, {
    fitTo: { mode: 'width', value: size },
    background: 'white',
    font: { loadSystemFonts: false },
    logLevel: 'off',
  }).render();
  if (image.width !== size || image.height !== size) throw new Error(`rendered ${image.width}x${image.height}, not ${size}x${size} (not square)`);
  const rgba = image.pixels;
  const rgb = new Uint8Array(size * size * 3);
  for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) {
    rgb[q] = rgba[p]!;
    rgb[q + 1] = rgba[p + 1]!;
    rgb[q + 2] = rgba[p + 2]!;
  }
  return rgb;
}

process.on('message', (message: RenderRequest) => {
  for (const job of message.jobs) {
    let reply: RenderReply;
    try {
      reply = { index: job.index, rgb: renderOne(job.svg, message.size) };
    } catch (err) {
      reply = { index: job.index, error: (err as Error).message.split('\n')[0] ?? 'render failed' };
    }
    process.send!(reply);
  }
});
