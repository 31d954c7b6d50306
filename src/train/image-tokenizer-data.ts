/**
 * The image tokenizer's training images for `cm3leon tokenizer train-image`: the datasets' training
 * split (held-out concepts excluded), optionally with recoloured Shapes scenes and small-object
 * scenes drawn more often; or a pack written by bench/gpu/pack-vq-data.ts for a machine without
 * the datasets. Returns size x size RGB byte arrays and a summary kept in the tokenizer's config.
 */
import { loadImages, oversampleSmallObjects, readImagePack, recolouredScenes } from '../tokenizers/vq/dataset.js';

export interface TrainingImageOptions {
  dirs: string[];
  size: number;
  /** At most this many images per dataset. */
  limit?: number;
  /** Shapes scenes drawn again in random off-palette colours. */
  recolour: number;
  /** Draw Shapes pictures holding a small object (of `oversampleShapes`, default any) this many times as often. */
  oversample: number;
  oversampleShapes?: string[];
  seed: number;
  /** Read the images from this pack instead of the datasets. */
  pack?: string;
  log: (line: string) => void;
}

export async function trainingImages(o: TrainingImageOptions): Promise<{ images: Uint8Array[]; dataInfo: Record<string, unknown> }> {
  if (o.pack !== undefined) {
    const pack = readImagePack(o.pack);
    if (pack.size !== o.size) throw new Error(`--pack ${o.pack} holds ${pack.size} px images, the tokenizer reads ${o.size} px`);
    o.log(`${pack.count} images, ${pack.images.length} draw entries from ${o.pack}`);
    return { images: pack.images, dataInfo: { pack: o.pack, images: pack.count } };
  }
  const t0 = performance.now();
  let loaded = await loadImages(o.dirs, { split: 'train', size: o.size, limitPerDataset: o.limit });
  const byDataset: Record<string, number> = {};
  for (const im of loaded) byDataset[im.dataset] = (byDataset[im.dataset] ?? 0) + 1;
  o.log(`loaded ${loaded.length} training images (${Object.entries(byDataset).map(([d, n]) => `${d}: ${n}`).join(', ')}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (o.recolour > 0) {
    const extra = await recolouredScenes(loaded, o.recolour, o.size, o.seed + 1000);
    loaded = [...loaded, ...extra];
    o.log(`${extra.length} Shapes scenes drawn again in random colours (held-out pairs' colours kept away)`);
  }
  if (o.oversample > 1) {
    const r = await oversampleSmallObjects(loaded, o.oversample, o.oversampleShapes);
    loaded = r.images;
    o.log(`${r.repeated} Shapes images with a small ${o.oversampleShapes?.join(' or ') ?? 'object'} drawn ${o.oversample}x as often (${loaded.length} entries)`);
  }
  const dataInfo = {
    datasets: o.dirs, split: 'train', images: byDataset,
    ...(o.oversample > 1 ? { oversampleSmall: o.oversample, oversampleShapes: o.oversampleShapes ?? 'all' } : {}), ...(o.recolour > 0 ? { recoloured: o.recolour } : {}),
  };
  return { images: loaded.map((l) => l.rgb), dataInfo };
}
