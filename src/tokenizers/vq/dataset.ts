/**
 * Images for training and evaluating the image tokenizer, read from the project's dataset store
 * (src/data): every full-size picture of a split (Shapes: scenes, edited scenes, segmentation maps;
 * emoji: colour and outline artwork) — the kinds of image the model will have to tokenize. The
 * low-resolution copies are left out (they are inputs of super-resolution, shown upsampled).
 * Held-out concepts are only ever read with `split: 'heldout'`, never mixed into training.
 */
import { BACKGROUNDS, COLOURS, Rng, openDataset, renderScene, type ColourName, type ImageRecord, type Scene, type Split } from '../../data/index.js';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
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

export interface RecolourOptions {
  /** Smallest RGB distance between a drawn colour and a held-out pair's palette colour, for that shape. */
  heldOutMargin?: number;
  /** Smallest RGB distance between a drawn colour and the background. */
  minContrast?: number;
  /** Smallest RGB distance between the colours of two objects of one scene. */
  minSeparation?: number;
}

/**
 * `count` extra training pictures: Shapes scenes of the training split (drawn at random from the
 * scenes among `images`) drawn again with every object in a random RGB colour. Why: the palette has
 * eight colours and the decoder learns shape and colour together (a green small cross, a held-out
 * pair it never sees, comes back with its notches filled, while red crosses come back sharp);
 * off-palette colours make it draw the shape the codes say in whatever colour they say.
 * Held-out concepts stay out: no object is drawn within `heldOutMargin` (RGB distance, default
 * 100) of the palette colour of a held-out pair of its shape (`info.heldOut`, e.g. "cross/green").
 * Colours keep `minContrast` (default 90; the faintest palette pair, pink on grey, is 99) from the
 * background and `minSeparation` (60) from each other. Deterministic for a seed. Each picture keeps
 * its scene's concept id, so --oversample-small counts it too; role 'image', style 'recoloured'.
 */
export async function recolouredScenes(images: readonly LoadedImage[], count: number, size: number, seed: number, o: RecolourOptions = {}): Promise<LoadedImage[]> {
  if (!Number.isInteger(count) || count < 0) throw new TokenizerError(`the number of recoloured pictures must be a whole number >= 0, got ${count}`);
  const margin = o.heldOutMargin ?? 100, minContrast = o.minContrast ?? 90, minSeparation = o.minSeparation ?? 60;
  if (![margin, minContrast, minSeparation].every((v) => v >= 0 && v < 200)) throw new TokenizerError('recolouring margins must be in [0, 200)');
  const scenes: { dataset: string; conceptId: string; scene: Scene; heldOut: Map<string, number[][]> }[] = [];
  for (const dir of new Set(images.map((im) => im.dataset))) {
    const ds = await openDataset(dir);
    try {
      if (ds.info.kind !== 'shapes') continue;
      // Held-out pairs "shape/colour" -> per shape, the palette colours to keep away from.
      const heldOut = new Map<string, number[][]>();
      for (const pair of ds.info.heldOut) {
        const [shape, colour] = pair.split('/') as [string, ColourName];
        if (!COLOURS[colour]) continue;
        heldOut.set(shape, [...(heldOut.get(shape) ?? []), [...COLOURS[colour]]]);
      }
      const wanted = new Set(images.filter((im) => im.dataset === dir && im.role === 'image').map((im) => im.conceptId));
      for await (const c of ds.concepts()) {
        if (wanted.has(c.id)) scenes.push({ dataset: dir, conceptId: c.id, scene: c.meta as unknown as Scene, heldOut });
      }
    } finally {
      ds.close();
    }
  }
  if (count > 0 && scenes.length === 0) throw new TokenizerError('recolouring needs Shapes scenes among the training images');
  const rng = new Rng(seed);
  const out: LoadedImage[] = [];
  for (let k = 0; k < count; k++) {
    const { dataset, conceptId, scene, heldOut } = scenes[rng.int(scenes.length)]!;
    const colours = drawColours(scene, heldOut, rng, { heldOutMargin: margin, minContrast, minSeparation });
    const rgb = renderScene(scene, size, colours).rgb;
    out.push({ rgb, id: `${conceptId}/recolour-${k}`, dataset, role: 'image', style: 'recoloured', conceptId });
  }
  return out;
}

const rgbDistance = (a: readonly number[], b: readonly number[]): number => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);

/**
 * One random RGB colour per object of `scene` (0-255 each), at least `heldOutMargin` from every
 * colour in `avoid` for that object's shape, `minContrast` from the background and `minSeparation`
 * from the scene's other objects (see recolouredScenes).
 */
export function drawColours(scene: Scene, avoid: ReadonlyMap<string, readonly (readonly number[])[]>, rng: Rng, o: Required<RecolourOptions>): number[][] {
  const bg = BACKGROUNDS[scene.background];
  const colours: number[][] = [];
  for (const object of scene.objects) {
    const near = avoid.get(object.shape) ?? [];
    // Rejection sampling: a small part of RGB space is ruled out, so this ends within a few tries.
    for (let tries = 0; ; tries++) {
      const colour = [rng.int(256), rng.int(256), rng.int(256)];
      if (rgbDistance(colour, bg) >= o.minContrast && near.every((c) => rgbDistance(colour, c) >= o.heldOutMargin)
        && colours.every((c) => rgbDistance(colour, c) >= o.minSeparation)) {
        colours.push(colour);
        break;
      }
      if (tries > 10000) throw new TokenizerError(`cannot find a colour for a ${object.shape} on ${scene.background}: the recolouring margins rule out every colour`);
    }
  }
  return colours;
}

/**
 * The images of a pack written by bench/gpu/pack-vq-data.ts (a gzip file: a JSON header line
 * {size, count, draw}, then count x size x size x 3 bytes), one entry per `draw` index, so the
 * pack's oversampling carries over.
 */
export function readImagePack(path: string): { size: number; images: Uint8Array[]; count: number } {
  const body = gunzipSync(readFileSync(path));
  const nl = body.indexOf(10);
  const header = JSON.parse(body.subarray(0, nl).toString('utf8')) as { size: number; count: number; draw: number[] };
  const px = header.size * header.size * 3;
  if (body.length - nl - 1 !== header.count * px) throw new Error(`${path}: ${body.length - nl - 1} image bytes, the header says ${header.count} images of ${header.size} px`);
  const images = Array.from({ length: header.count }, (_, i) => body.subarray(nl + 1 + i * px, nl + 1 + (i + 1) * px));
  return { size: header.size, count: header.count, images: header.draw.map((i) => images[i]!) };
}
