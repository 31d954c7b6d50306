/**
 * `cm3leon data show`: a contact sheet of a dataset, images in a grid with their captions under
 * them (held-out ones marked), written as a PNG. For looking at data, not for training.
 */
import { DataInputError } from './errors.js';
import { drawText, LINE_HEIGHT, ADVANCE, wrapText } from './bitmap-font.js';
import { blit, createImage, upsampleNearest, writePng, type RgbImage } from './image.js';
import type { Dataset } from './store.js';
import type { ImageRole, Split } from './types.js';

export interface SheetOptions {
  n: number;
  split?: Split;
  /** Columns of the grid (default: about square). */
  columns?: number;
}

const CELL_IMAGE = 128;
const CAPTION_LINES = 3;
const PAD = 4;

/** Captions of the main images: concept label, plus the style for emoji. */
async function captionsFor(dataset: Dataset): Promise<Map<string, string>> {
  const labels = new Map<string, string>();
  for await (const c of dataset.concepts()) labels.set(c.id, c.label);
  return labels;
}

/** Pick `n` main images spread evenly over the dataset and lay them out with captions. */
export async function contactSheet(dataset: Dataset, options: SheetOptions): Promise<{ sheet: RgbImage; count: number }> {
  if (!Number.isInteger(options.n) || options.n < 1 || options.n > 4096) throw new DataInputError(`--n must be from 1 to 4096, got ${options.n}`);
  const roles: ImageRole[] = dataset.info.kind === 'emoji' ? ['image', 'outline'] : ['image'];
  let total = 0;
  for (const role of roles) total += await dataset.count('images', { role, split: options.split });
  if (total === 0) throw new Error(`${dataset.dir}: no images${options.split ? ` in split '${options.split}'` : ''}`);
  const stride = Math.max(1, Math.floor(total / options.n));
  const labels = await captionsFor(dataset);
  const picked: { image: RgbImage; caption: string; heldOut: boolean }[] = [];
  let index = 0;
  for (const role of roles) {
    for await (const record of dataset.images({ role, split: options.split })) {
      if (index++ % stride !== 0 || picked.length >= options.n) continue;
      const label = labels.get(record.conceptId) ?? record.conceptId;
      picked.push({
        image: { width: record.size, height: record.size, rgb: record.rgb },
        caption: dataset.info.kind === 'emoji' ? `${label} (${record.style})` : label,
        heldOut: record.split === 'heldout',
      });
    }
  }
  const columns = options.columns ?? Math.ceil(Math.sqrt(picked.length));
  const rows = Math.ceil(picked.length / columns);
  const cellW = CELL_IMAGE + 2 * PAD, cellH = CELL_IMAGE + 2 * PAD + CAPTION_LINES * LINE_HEIGHT + PAD;
  const sheet = createImage(columns * cellW, rows * cellH, [240, 240, 240]);
  picked.forEach((item, i) => {
    const x = (i % columns) * cellW + PAD, y = Math.floor(i / columns) * cellH + PAD;
    const factor = Math.max(1, Math.floor(CELL_IMAGE / item.image.width));
    const shown = upsampleNearest(item.image, factor);
    blit(sheet, shown, x + Math.floor((CELL_IMAGE - shown.width) / 2), y + Math.floor((CELL_IMAGE - shown.height) / 2));
    if (item.heldOut) drawText(sheet, 'held out', x + 2, y + 2, [200, 0, 0]);
    const lines = wrapText(item.caption, Math.floor(CELL_IMAGE / ADVANCE), CAPTION_LINES);
    lines.forEach((line, k) => drawText(sheet, line, x, y + CELL_IMAGE + PAD + k * LINE_HEIGHT, [20, 20, 20]));
  });
  return { sheet, count: picked.length };
}

export async function writeContactSheet(dataset: Dataset, out: string, options: SheetOptions): Promise<number> {
  const { sheet, count } = await contactSheet(dataset, options);
  writePng(out, sheet);
  return count;
}
