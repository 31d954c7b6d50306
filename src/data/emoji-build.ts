/**
 * `cm3leon data build emoji`: renders every catalogued emoji in every style at one size (plus
 * box-downsampled copies for super-resolution), writes images in catalogue order, then the
 * concepts and pairs. Survives renderer crashes (emoji-render.ts) and missing packages, and says
 * what it skipped. What the catalogue holds is emoji-catalog.ts; what pairs exist, emoji-pairs.ts.
 */
import { DataInputError } from './errors.js';
import { downsample } from './image.js';
import { EMOJI_STYLES, HELD_OUT_SUBGROUPS, STYLE_SOURCES, loadCatalog, type EmojiStyle } from './emoji-catalog.js';
import { emojiImageId, emojiPairs } from './emoji-pairs.js';
import { renderSvgs } from './emoji-render.js';
import { DatasetWriter } from './store.js';
import type { DatasetInfo, SkippedItem } from './types.js';

export const EMOJI_SIZES = [16, 32, 64, 128] as const;

/**
 * Icons (`style:icon`) that abort resvg 2.6.2 (a panic in its geometry code): skipped untried, so a build
 * does not pay for restarting the renderer. Any other crash is caught and counted all the same.
 */
export const KNOWN_CRASHERS: readonly string[] = ['noto:package', 'noto:rainbow-flag'];

export interface EmojiBuildOptions {
  size?: number;
  out: string;
  styles?: readonly EmojiStyle[];
  /** Keep only this many concepts, spread over the catalogue. */
  limit?: number;
  /** Render processes (default: cores, at most 4). */
  workers?: number;
  /** Use KNOWN_CRASHERS (default true; tests turn it off to see a crash survived). */
  skipList?: boolean;
  log?: (line: string) => void;
}

export function lowResolutionFactors(size: number): number[] {
  return [2, 4].filter((f) => size / f >= 16);
}

export function validateEmojiOptions(options: EmojiBuildOptions): void {
  const size = options.size ?? 64;
  if (!(EMOJI_SIZES as readonly number[]).includes(size)) {
    throw new DataInputError(`--size must be one of ${EMOJI_SIZES.join(', ')} for emoji, got ${size}`);
  }
  for (const style of options.styles ?? []) {
    if (!(EMOJI_STYLES as readonly string[]).includes(style)) {
      throw new DataInputError(`unknown style '${style}' (styles: ${EMOJI_STYLES.join(', ')})`);
    }
  }
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 1)) {
    throw new DataInputError(`--limit must be a positive whole number, got ${options.limit}`);
  }
}

export async function buildEmoji(options: EmojiBuildOptions): Promise<DatasetInfo> {
  validateEmojiOptions(options);
  const size = options.size ?? 64;
  const log = options.log ?? (() => {});
  const started = performance.now();
  const catalog = loadCatalog({ styles: options.styles, limit: options.limit });
  const skipped: SkippedItem[] = [...catalog.skipped];
  const byId = new Map(catalog.concepts.map((c) => [c.id, c]));
  const skipList = options.skipList === false ? [] : KNOWN_CRASHERS;
  const jobs = catalog.jobs.filter((job) => {
    const name = `${job.style}:${job.origin.slice(job.origin.indexOf(':') + 1)}`;
    if (!skipList.includes(name)) return true;
    skipped.push({ style: job.style, name: job.origin, reason: 'on the skip list (known resvg crash)' });
    return false;
  });
  log(`emoji: ${catalog.concepts.length} concepts, ${jobs.length} icons to render at ${size}px`);

  const factors = lowResolutionFactors(size);
  const available = new Map<string, EmojiStyle[]>();
  const writer = await DatasetWriter.create(options.out);
  try {
    // Results arrive out of order; write them in job order so a build is deterministic.
    const results = new Map<number, Uint8Array | null>();
    let nextToWrite = 0;
    let writing: Promise<void> = Promise.resolve();
    const drain = async (): Promise<void> => {
      while (results.has(nextToWrite)) {
        const rgb = results.get(nextToWrite)!;
        const job = jobs[nextToWrite]!;
        results.delete(nextToWrite++);
        if (!rgb) continue;
        const concept = byId.get(job.conceptId)!;
        const base = {
          split: concept.split, conceptId: concept.id, source: STYLE_SOURCES[job.style].package, style: job.style,
          origin: job.origin, license: STYLE_SOURCES[job.style].license,
        };
        await writer.addImage({ ...base, id: emojiImageId(concept.id, job.style), size, rgb, role: job.style === 'openmoji-black' ? 'outline' : 'image' });
        for (const factor of factors) {
          const low = downsample({ width: size, height: size, rgb }, factor);
          await writer.addImage({ ...base, id: emojiImageId(concept.id, job.style, factor), size: low.width, rgb: low.rgb, role: 'lowres' });
        }
        available.set(concept.id, [...(available.get(concept.id) ?? []), job.style]);
      }
    };
    const settle = (index: number, rgb: Uint8Array | null): void => {
      results.set(index, rgb);
      writing = writing.then(drain);
    };
    const stats = await renderSvgs(jobs.map((j) => j.svg), {
      size,
      workers: options.workers,
      onImage: (index, rgb) => settle(index, rgb),
      onFailure: (index, reason) => {
        skipped.push({ style: jobs[index]!.style, name: jobs[index]!.origin, reason });
        settle(index, null);
      },
    });
    await writing;
    log(`emoji: rendered ${stats.rendered}, failed ${stats.failed} (renderer crashes survived: ${stats.crashes})`);

    for (const concept of catalog.concepts) {
      await writer.addConcept({
        id: concept.id, split: concept.split, label: concept.label,
        meta: {
          emoji: concept.emoji, tags: concept.tags, group: concept.group, groupName: concept.groupName,
          subgroup: concept.subgroup, subgroupName: concept.subgroupName, tone: concept.tone, baseId: concept.baseId,
          styles: available.get(concept.id) ?? [],
        },
      });
    }
    for (const pair of emojiPairs(catalog.concepts, available, factors)) await writer.addPair(pair);
    const styles = options.styles ?? EMOJI_STYLES;
    return await writer.finish({
      kind: 'emoji',
      size,
      seed: null,
      options: { size, styles: [...styles], limit: options.limit ?? null },
      sources: catalog.packages.map((p) => ({
        name: p.name, version: p.version, license: p.license,
        styles: styles.filter((s) => STYLE_SOURCES[s].package === p.name),
      })),
      heldOut: [...HELD_OUT_SUBGROUPS],
      skipped,
      buildSeconds: (performance.now() - started) / 1000,
    });
  } catch (err) {
    writer.abort();
    throw err;
  }
}
