/**
 * The records every dataset is made of, shared by the builders and the store. Plain data only:
 * how they are written and read lives in store.ts, how they are made in emoji-* and shapes-*.
 */

export type DatasetKind = 'emoji' | 'shapes';

/** `heldout` examples share no concept (emoji) or attribute combination (shapes) with `train`. */
export type Split = 'train' | 'heldout';
export const SPLITS: readonly Split[] = ['train', 'heldout'];

/**
 * What a pair teaches. Each pair has an input side and an output side, each an image, a text or
 * both; a consumer may read a pair in either direction (caption <-> image).
 */
export type PairType =
  | 'caption' //            image <-> text                      (text-to-image, captioning)
  | 'outline-to-colour' //  outline image (+ caption) -> colour (structure-guided generation)
  | 'tone-edit' //          image + instruction -> image        (instruction editing, emoji)
  | 'style-transfer' //     image + instruction -> image        (emoji, between sets)
  | 'super-resolution' //   low-resolution image -> image
  | 'vqa' //                image + question -> answer
  | 'retrieval' //          image (one style) -> image of the same concept (another style)
  | 'grounded' //           objects with boxes (text) -> image  (shapes, spatially grounded)
  | 'segmentation' //       segmentation map (+ caption) -> image (shapes, structure-guided)
  | 'edit'; //              image + instruction -> image        (shapes: recolour/move/add/remove)

export const PAIR_TYPES: readonly PairType[] = [
  'caption', 'outline-to-colour', 'tone-edit', 'style-transfer', 'super-resolution', 'vqa',
  'retrieval', 'grounded', 'segmentation', 'edit',
];

/** What an image is within its concept or scene. */
export type ImageRole = 'image' | 'outline' | 'lowres' | 'segmentation' | 'edited';

export interface ImageRecord {
  id: string;
  split: Split;
  /** Side in pixels; `rgb` holds size * size * 3 bytes, row-major, no alpha. */
  size: number;
  rgb: Uint8Array;
  role: ImageRole;
  /** Emoji: the emoji's hexcode; shapes: the scene id. */
  conceptId: string;
  /** Package the artwork comes from (`openmoji`, `@iconify-json/noto`, `shapes` ...). */
  source: string;
  /** Visual style (`openmoji-color`, `twemoji`, ... ; `flat` for shapes). */
  style: string;
  /** Where exactly it came from: `package@version:path-or-icon` or `shapes:seed/scene`. */
  origin: string;
  license: string;
}

export interface PairRecord {
  id: string;
  type: PairType;
  /** A finer label within the type: `recolour`, `count`, `group`, `x2` ... ('' when none). */
  task: string;
  split: Split;
  conceptId: string;
  inputImage: string | null;
  inputText: string | null;
  outputImage: string | null;
  outputText: string | null;
}

/** One emoji concept (hexcode) or one shapes scene, with its metadata as JSON. */
export interface ConceptRecord {
  id: string;
  split: Split;
  label: string;
  /** Emoji: group, subgroup, tags, tone, base; shapes: background and objects. */
  meta: Record<string, unknown>;
}

export interface SourceInfo {
  name: string;
  version: string;
  license: string;
  styles: string[];
}

export interface SkippedItem {
  style: string;
  name: string;
  reason: string;
}

/** Counts by a key, printed by the build and kept in info.json. */
export type CountTable = Record<string, number>;

export interface DatasetCounts {
  images: number;
  pairs: number;
  concepts: number;
  imagesByStyle: CountTable;
  imagesBySource: CountTable;
  imagesByRole: CountTable;
  imagesBySplit: CountTable;
  conceptsBySplit: CountTable;
  pairsByType: CountTable;
  /** `type/split` -> count. */
  pairsByTypeAndSplit: CountTable;
}

export interface DatasetInfo {
  kind: DatasetKind;
  formatVersion: 1;
  size: number;
  seed: number | null;
  /** The arguments the builder was called with. */
  options: Record<string, unknown>;
  sources: SourceInfo[];
  /** Emoji: held-out subgroups; shapes: held-out `shape/colour` combinations. */
  heldOut: string[];
  skipped: SkippedItem[];
  counts: DatasetCounts;
  buildSeconds: number;
}
