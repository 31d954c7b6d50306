/**
 * Benchmark: time of the default emoji build (all six styles, 64 px, low-resolution copies, all
 * pairs, LanceDB tables) into a temporary directory. Target: under 2 minutes on the 2-core machine.
 * Run: `npm run build && node dist/bench/data-emoji.js [--runs 3] [--size 64]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildEmoji } from '../src/data/emoji-build.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '1' }, size: { type: 'string', default: '64' } } });
const runs = Number(values.runs), size = Number(values.size);
const times: number[] = [];
for (let run = 0; run < runs; run++) {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-bench-emoji-'));
  try {
    const started = performance.now();
    const info = await buildEmoji({ out: join(dir, 'emoji'), size });
    const seconds = (performance.now() - started) / 1000;
    times.push(seconds);
    console.log(`run ${run + 1}: ${seconds.toFixed(1)} s, ${info.counts.images} images, ${info.counts.pairs} pairs, ${info.skipped.length} skipped`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
console.log(JSON.stringify({ bench: 'data-emoji', size, runs, medianSeconds: Number(median.toFixed(2)), targetSeconds: 120, pass: median < 120 }));
