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

/**
 * `images` with every Shapes picture whose scene holds a small object (of one of `shapes`, default
 * any) listed `factor` times in all (emoji and other pictures once). Training draws batches
 * uniformly from the list, so those pictures come up `factor` times as often. Why: small objects are a few pixels across, contribute almost
 * nothing to a mean loss, and are where round trips fail the Shapes parser (a 10 px cross whose
 * 3 px notches fill in reads as a diamond). Entries share their bytes; nothing is copied.
 */
export async function oversampleSmallObjects(images: readonly LoadedImage[], factor: number, shapes?: readonly string[]): Promise<{ images: LoadedImage[]; repeated: number }> {
  if (!Number.isInteger(factor) || factor < 1) throw new TokenizerError(`the oversampling factor must be a whole number >= 1, got ${factor}`);
  const small = new Set<string>();
  for (const dir of new Set(images.map((im) => im.dataset))) {
    const ds = await openDataset(dir);
    try {
      if (ds.info.kind !== 'shapes') continue;
      for await (const c of ds.concepts()) {
        const objects = (c.meta as { objects?: { size: string; shape: string }[] }).objects ?? [];
        if (objects.some((o) => o.size === 'small' && (!shapes || shapes.includes(o.shape)))) small.add(`${dir}\u0000${c.id}`);
      }
    } finally {
      ds.close();
    }
  }
  const out: LoadedImage[] = [];
  let repeated = 0;
  for (const im of images) {
    const hit = small.has(`${im.dataset}\u0000${im.conceptId}`);
    if (hit) repeated++;
    for (let k = 0; k < (hit ? factor : 1); k++) out.push(im);
  }
  return { images: out, repeated };
}
