/**
 * Packs training images for the offline GPU machine (no datasets, no LanceDB there): one gzip file
 * with a JSON header line and the 64x64 RGB bytes, plus the list of entries a batch draws from
 * (with `--recolour N --seed S` and `--oversample-small K --oversample-shapes ...` applied as in
 * `train-image`: the recoloured scenes are packed as images of their own). Shapes pictures
 * compress to ~220 bytes, emoji to ~1.3 KB.
 *
 *   node dist/bench/gpu/pack-vq-data.js --data data/shapes-10k,data/emoji --emoji-limit 10000 \
 *        [--recolour 20000] --oversample-small 8 --oversample-shapes cross,star -o .vq-pack/train.bin.gz
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { loadImages, oversampleSmallObjects, recolouredScenes, type LoadedImage } from '../../src/tokenizers/vq/dataset.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: 'data/shapes-10k,data/emoji' }, 'emoji-limit': { type: 'string' },
    'oversample-small': { type: 'string', default: '1' }, 'oversample-shapes': { type: 'string' },
    recolour: { type: 'string', default: '0' }, seed: { type: 'string', default: '1' }, output: { type: 'string', short: 'o' },
  },
});
const out = values.output ?? '.vq-pack/train.bin.gz';
// Checked before the (slow) data load.
const recolour = Number(values.recolour), seed = Number(values.seed);
if (!Number.isInteger(recolour) || recolour < 0) throw new Error(`--recolour must be a whole number, got '${values.recolour}'`);
if (!Number.isInteger(seed)) throw new Error(`--seed must be a whole number, got '${values.seed}'`);
const images: LoadedImage[] = [];
for (const dir of values.data!.split(',')) {
  const limit = dir.includes('emoji') && values['emoji-limit'] ? Number(values['emoji-limit']) : undefined;
  images.push(...(await loadImages([dir], { split: 'train', size: 64, limitPerDataset: limit })));
}
// The same draw as `train-image --recolour N --seed S` (seed S + 1000).
if (recolour > 0) images.push(...(await recolouredScenes(images, recolour, 64, seed + 1000)));
const factor = Number(values['oversample-small']);
const shapes = values['oversample-shapes']?.split(',');
const { images: drawn } = factor > 1 ? await oversampleSmallObjects(images, factor, shapes) : { images };
const index = new Map(images.map((im, i) => [im, i]));
const draw = drawn.map((im) => index.get(im)!);
const header = { format: 'cm3leon-vq-pack', size: 64, count: images.length, datasets: values.data, emojiLimit: values['emoji-limit'] ?? null, recoloured: recolour, oversampleSmall: factor, oversampleShapes: shapes ?? 'all', draw };
const body = Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), ...images.map((im) => Buffer.from(im.rgb))]);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(`${out}.tmp`, gzipSync(body, { level: 9 }));
renameSync(`${out}.tmp`, out);
console.log(`wrote ${out}: ${images.length} images, ${draw.length} entries to draw from`);
