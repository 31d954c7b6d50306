/**
 * The emoji catalogue: concepts (every emoji and skin-tone variant emojibase names, with group,
 * subgroup, tags and tone) joined by hexcode with the artwork of six styles from five npm packages,
 * and the concept-level split (whole subgroups held out). Reads package files only; rendering is
 * emoji-render.ts, pairs are emoji-pairs.ts.
 */
import { DataInputError } from './errors.js';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { SkippedItem, Split } from './types.js';

const require = createRequire(import.meta.url);

export const EMOJI_STYLES = [
  'openmoji-color', 'openmoji-black', 'twemoji', 'noto', 'fluent-flat', 'fluent-high-contrast',
] as const;
export type EmojiStyle = (typeof EMOJI_STYLES)[number];

/** How each style is called in captions and instructions. */
export const STYLE_WORDS: Record<EmojiStyle, string> = {
  'openmoji-color': 'OpenMoji',
  'openmoji-black': 'OpenMoji black outline',
  twemoji: 'Twemoji',
  noto: 'Noto',
  'fluent-flat': 'Fluent flat',
  'fluent-high-contrast': 'Fluent high-contrast',
};

interface StyleSource {
  package: string;
  license: string;
  /** Iconify set (JSON icons) or OpenMoji folder (one SVG file per emoji). */
  iconify?: string;
  openmojiFolder?: 'color' | 'black';
}

export const STYLE_SOURCES: Record<EmojiStyle, StyleSource> = {
  'openmoji-color': { package: 'openmoji', license: 'CC-BY-SA-4.0', openmojiFolder: 'color' },
  'openmoji-black': { package: 'openmoji', license: 'CC-BY-SA-4.0', openmojiFolder: 'black' },
  twemoji: { package: '@iconify-json/twemoji', license: 'CC-BY-4.0', iconify: 'twemoji' },
  noto: { package: '@iconify-json/noto', license: 'Apache-2.0', iconify: 'noto' },
  'fluent-flat': { package: '@iconify-json/fluent-emoji-flat', license: 'MIT', iconify: 'fluent-emoji-flat' },
  'fluent-high-contrast': { package: '@iconify-json/fluent-emoji-high-contrast', license: 'MIT', iconify: 'fluent-emoji-high-contrast' },
};

/**
 * Subgroups held out of training, whole, in every style: one or two per group, about 8% of the
 * concepts, including one with skin tones (hand-fingers-partial) so tone edits are tested too.
 */
export const HELD_OUT_SUBGROUPS: readonly string[] = [
  'face-sleepy', 'cat-face', 'hand-fingers-partial', 'person-resting', 'animal-marine', 'plant-flower',
  'food-fruit', 'transport-water', 'sky-weather', 'game', 'musical-instrument', 'tool', 'zodiac', 'arrow',
  'flag',
];

export const TONE_WORDS = ['', 'light', 'medium-light', 'medium', 'medium-dark', 'dark'];

export interface EmojiConcept {
  /** emojibase hexcode, e.g. `1F44B-1F3FB`. */
  id: string;
  emoji: string;
  label: string;
  tags: string[];
  group: string;
  groupName: string;
  subgroup: string;
  subgroupName: string;
  /** 1-5 for one skin tone, a list for several people, null for none. */
  tone: number | number[] | null;
  /** The tone-less concept a skin-tone variant belongs to (null for the base itself). */
  baseId: string | null;
  split: Split;
}

export interface IconJob {
  conceptId: string;
  style: EmojiStyle;
  /** `package@version:file-or-icon`. */
  origin: string;
  /** Reads the SVG text (lazily: openmoji files are read when rendered). */
  svg: () => string;
}

export interface SourcePackage {
  name: string;
  version: string;
  license: string;
  dir: string;
}

export interface EmojiCatalog {
  concepts: EmojiConcept[];
  jobs: IconJob[];
  packages: SourcePackage[];
  /** Styles whose package could not be read, and concepts without a subgroup. */
  skipped: SkippedItem[];
}

/** Hexcodes are joined lowercased, without variation selectors (FE0F). */
export function normalizeHexcode(hexcode: string): string {
  return hexcode.toLowerCase().split('-').filter((part) => part !== 'fe0f').join('-');
}

export function findPackage(name: string, license: string): SourcePackage | null {
  let path: string;
  try {
    path = require.resolve(`${name}/package.json`);
  } catch {
    return null;
  }
  const json = JSON.parse(readFileSync(path, 'utf8')) as { version: string };
  return { name, version: json.version, license, dir: dirname(path) };
}

interface EmojibaseEntry {
  label: string;
  hexcode: string;
  emoji: string;
  tags?: string[];
  group?: number;
  subgroup?: number;
  tone?: number | number[];
  skins?: EmojibaseEntry[];
}

interface Messages {
  groups: { key: string; message: string; order: number }[];
  subgroups: { key: string; message: string; order: number }[];
}

export function loadConcepts(): { concepts: EmojiConcept[]; skipped: SkippedItem[]; pkg: SourcePackage } {
  const pkg = findPackage('emojibase-data', 'MIT');
  if (!pkg) throw new DataInputError("package 'emojibase-data' is not installed (run `npm ci`): it names every emoji, nothing can be built without it");
  const data = JSON.parse(readFileSync(join(pkg.dir, 'en/data.json'), 'utf8')) as EmojibaseEntry[];
  const messages = JSON.parse(readFileSync(join(pkg.dir, 'en/messages.json'), 'utf8')) as Messages;
  const groups = new Map(messages.groups.map((g) => [g.order, g]));
  const subgroups = new Map(messages.subgroups.map((g) => [g.order, g]));
  const concepts: EmojiConcept[] = [];
  const skipped: SkippedItem[] = [];
  const add = (entry: EmojibaseEntry, base: EmojibaseEntry | null): void => {
    const group = entry.group === undefined ? undefined : groups.get(entry.group);
    const subgroup = entry.subgroup === undefined ? undefined : subgroups.get(entry.subgroup);
    if (!group || !subgroup) {
      skipped.push({ style: 'emojibase', name: entry.label, reason: 'no group or subgroup' });
      return;
    }
    concepts.push({
      id: entry.hexcode, emoji: entry.emoji, label: entry.label, tags: entry.tags ?? base?.tags ?? [],
      group: group.key, groupName: group.message, subgroup: subgroup.key, subgroupName: subgroup.message,
      tone: entry.tone ?? null, baseId: base ? base.hexcode : null,
      split: HELD_OUT_SUBGROUPS.includes(subgroup.key) ? 'heldout' : 'train',
    });
  };
  for (const entry of data) {
    add(entry, null);
    for (const skin of entry.skins ?? []) add(skin, entry);
  }
  return { concepts, skipped, pkg };
}

interface IconifySet {
  width?: number;
  height?: number;
  icons: Record<string, { body: string; width?: number; height?: number; left?: number; top?: number }>;
  aliases?: Record<string, { parent: string }>;
}

/** A square SVG document for an Iconify icon, centred, `currentColor` drawn black. */
function iconifySvg(set: IconifySet, name: string): string {
  let icon = set.icons[name];
  for (let hops = 0; !icon && hops < 4; hops++) {
    name = set.aliases?.[name]?.parent ?? name;
    icon = set.icons[name];
  }
  if (!icon) throw new Error(`icon '${name}' is not in the set`);
  const w = icon.width ?? set.width ?? 16, h = icon.height ?? set.height ?? 16;
  const s = Math.max(w, h), left = (icon.left ?? 0) - (s - w) / 2, top = (icon.top ?? 0) - (s - h) / 2;
  const body = icon.body.replaceAll('currentColor', '#000000');
  return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="${left} ${top} ${s} ${s}" width="${s}" height="${s}">${body}</svg>`;
}

function styleJobs(style: EmojiStyle, pkg: SourcePackage, wanted: Map<string, string>): IconJob[] {
  const source = STYLE_SOURCES[style];
  const jobs: IconJob[] = [];
  const tag = `${pkg.name}@${pkg.version}`;
  if (source.openmojiFolder) {
    const folder = source.openmojiFolder;
    const list = JSON.parse(readFileSync(join(pkg.dir, 'data/openmoji.json'), 'utf8')) as { hexcode: string }[];
    for (const { hexcode } of list) {
      const conceptId = wanted.get(normalizeHexcode(hexcode));
      if (!conceptId) continue;
      const file = join(pkg.dir, folder, 'svg', `${hexcode}.svg`);
      jobs.push({ conceptId, style, origin: `${tag}:${folder}/svg/${hexcode}.svg`, svg: () => readFileSync(file, 'utf8') });
    }
  } else {
    const set = JSON.parse(readFileSync(join(pkg.dir, 'icons.json'), 'utf8')) as IconifySet;
    const chars = JSON.parse(readFileSync(join(pkg.dir, 'chars.json'), 'utf8')) as Record<string, string>;
    for (const [hex, name] of Object.entries(chars)) {
      const conceptId = wanted.get(normalizeHexcode(hex));
      if (!conceptId) continue;
      jobs.push({ conceptId, style, origin: `${tag}:${name}`, svg: () => iconifySvg(set, name) });
    }
  }
  // One image per concept and style, in catalogue order.
  const seen = new Set<string>();
  return jobs.filter((j) => !seen.has(j.conceptId) && seen.add(j.conceptId));
}

export interface CatalogOptions {
  styles?: readonly EmojiStyle[];
  /** Keep only this many concepts, evenly spread over the catalogue (for quick builds and tests). */
  limit?: number;
}

export function loadCatalog(options: CatalogOptions = {}): EmojiCatalog {
  const { concepts: all, skipped, pkg } = loadConcepts();
  let concepts = all;
  if (options.limit !== undefined && options.limit < all.length) {
    const step = all.length / options.limit;
    concepts = Array.from({ length: options.limit }, (_, i) => all[Math.floor(i * step)]!);
  }
  const wanted = new Map(concepts.map((c) => [normalizeHexcode(c.id), c.id]));
  const packages: SourcePackage[] = [pkg];
  const jobs: IconJob[] = [];
  for (const style of options.styles ?? EMOJI_STYLES) {
    const source = STYLE_SOURCES[style];
    const found = findPackage(source.package, source.license);
    const probe = found && (source.openmojiFolder ? join(found.dir, 'data/openmoji.json') : join(found.dir, 'icons.json'));
    if (!found || !probe || !existsSync(probe)) {
      skipped.push({ style, name: '*', reason: `package '${source.package}' is not installed or unreadable (run \`npm ci\`)` });
      continue;
    }
    if (!packages.some((p) => p.name === found.name)) packages.push(found);
    jobs.push(...styleJobs(style, found, wanted));
  }
  return { concepts, jobs, packages, skipped };
}
