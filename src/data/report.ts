/**
 * The counts a build prints: images per source, style, role and split, concepts per split, pairs
 * per type and split, and what was skipped. Text only; the same numbers are in info.json.
 */
import type { CountTable, DatasetInfo } from './types.js';

function table(title: string, counts: CountTable): string[] {
  const entries = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  const width = Math.max(...entries.map(([k]) => k.length), 8);
  return [`${title}:`, ...entries.map(([k, v]) => `  ${k.padEnd(width)} ${String(v).padStart(8)}`)];
}

function pairsTable(info: DatasetInfo): string[] {
  const types = Object.keys(info.counts.pairsByType).sort();
  const width = Math.max(...types.map((t) => t.length), 8);
  const lines = [`pairs by type:`, `  ${'type'.padEnd(width)} ${'train'.padStart(8)} ${'heldout'.padStart(8)} ${'total'.padStart(8)}`];
  for (const type of types) {
    const train = info.counts.pairsByTypeAndSplit[`${type}/train`] ?? 0;
    const heldout = info.counts.pairsByTypeAndSplit[`${type}/heldout`] ?? 0;
    lines.push(`  ${type.padEnd(width)} ${String(train).padStart(8)} ${String(heldout).padStart(8)} ${String(train + heldout).padStart(8)}`);
  }
  return lines;
}

/** A human-readable summary of a finished build. */
export function formatReport(info: DatasetInfo): string {
  const c = info.counts;
  const skippedByReason: CountTable = {};
  for (const s of info.skipped) {
    const key = `${s.style}: ${s.reason.replace(/\(.*\)/, '').trim()}`;
    skippedByReason[key] = (skippedByReason[key] ?? 0) + 1;
  }
  return [
    `${info.kind} dataset, ${info.size}px: ${c.images} images, ${c.pairs} pairs, ${c.concepts} ${info.kind === 'emoji' ? 'concepts' : 'scenes'} in ${info.buildSeconds.toFixed(1)} s`,
    ...table('images by source', c.imagesBySource),
    ...table('images by style', c.imagesByStyle),
    ...table('images by role', c.imagesByRole),
    ...table('images by split', c.imagesBySplit),
    ...table(info.kind === 'emoji' ? 'concepts by split' : 'scenes by split', c.conceptsBySplit),
    ...pairsTable(info),
    `held out: ${info.heldOut.join(', ')}`,
    `skipped: ${info.skipped.length}`,
    ...Object.entries(skippedByReason).map(([k, v]) => `  ${v} x ${k}`),
  ].join('\n');
}
