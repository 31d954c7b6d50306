/**
 * Images for training and evaluating the image tokenizer, read from the project's dataset store
 * (src/data): every full-size picture of a split (Shapes: scenes, edited scenes, segmentation maps;
 * emoji: colour and outline artwork) — the kinds of image the model will have to tokenize. The
 * low-resolution copies are left out (they are inputs of super-resolution, shown upsampled).
 * Held-out concepts are only ever read with `split: 'heldout'`, never mixed into training.
 */
import { openDataset, type ImageRecord, type Split } from '../../data/index.js';
import { TokenizerError } from '../errors.js';
import { resizeRgb } from './images.js';

export interface LoadedImage {
  rgb: Uint8Array;
  id: string;
  dataset: string;
  role: string;
  style: string;
  conceptId: string;
}

export interface LoadOptions {
  split: Split;
  size: number;
  /** Keep at most this many images per dataset (evenly spaced), for quick runs and tests. */
  limitPerDataset?: number;
  /** Roles to keep; default every role except 'lowres'. */
  roles?: readonly string[];
}

/** Loads the images of `split` from each dataset directory, resized to size x size when needed. */
export async function loadImages(dirs: readonly string[], o: LoadOptions): Promise<LoadedImage[]> {
  const out: LoadedImage[] = [];
  for (const dir of dirs) {
    let ds;
    try {
      ds = await openDataset(dir);
    } catch (e) {
      throw new TokenizerError(`cannot open dataset ${dir}: ${(e as Error).message}`);
    }
    const mine: LoadedImage[] = [];
    try {
      for await (const im of ds.images({ split: o.split })) {
        if (o.roles ? !o.roles.includes(im.role) : im.role === 'lowres') continue;
        mine.push(toLoaded(im, dir, o.size));
      }
    } finally {
      ds.close();
    }
    const limit = o.limitPerDataset ?? Infinity;
    if (mine.length > limit) {
      const step = mine.length / limit;
      for (let i = 0; i < limit; i++) out.push(mine[Math.floor(i * step)]!);
    } else out.push(...mine);
  }
  if (out.length === 0) throw new TokenizerError(`no ${o.split} images in ${dirs.join(', ')}`);
  return out;
}

function toLoaded(im: ImageRecord, dir: string, size: number): LoadedImage {
  const rgb = im.size === size ? im.rgb : resizeRgb({ width: im.size, height: im.size, rgb: im.rgb }, size).rgb;
  // A copy: the record's bytes may be a view into a large Arrow batch that would otherwise stay alive.
  return { rgb: new Uint8Array(rgb), id: im.id, dataset: dir, role: im.role, style: im.style, conceptId: im.conceptId };
}
