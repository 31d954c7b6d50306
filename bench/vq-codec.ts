/**
 * Encode and decode latency of saved image tokenizers on the CPU, for comparing tokenizer versions
 * (a grown decoder costs time at every generated image): `node dist/bench/vq-codec.js DIR [DIR ...]
 * [--batch 1,32] [--rounds 5] [--threads N] [--json out.json]`.
 * The tokenizers are timed in interleaved rounds of the same run, so load from other jobs falls on
 * each alike; the median of the rounds is reported, with the 1-minute load average at the start.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { setNumThreads } from '../src/index.js';
import { Rng, renderScene, sampleScene, type RgbImage } from '../src/data/index.js';
import { ImageTokenizer } from '../src/tokenizers/vq/image-tokenizer.js';

const { values, positionals } = parseArgs({
  options: { batch: { type: 'string' }, rounds: { type: 'string' }, threads: { type: 'string' }, json: { type: 'string' } },
  allowPositionals: true,
});
if (positionals.length === 0) {
  console.error('usage: node dist/bench/vq-codec.js DIR [DIR ...] [--batch 1,32] [--rounds 5] [--threads N] [--json out.json]');
  process.exit(2);
}
if (values.threads) setNumThreads(Number(values.threads));
const batches = String(values.batch ?? '1,32').split(',').map(Number);
const rounds = Number(values.rounds ?? 5);
if (batches.some((b) => !Number.isInteger(b) || b < 1) || !Number.isInteger(rounds) || rounds < 1) {
  console.error('--batch takes positive whole numbers, --rounds a positive whole number');
  process.exit(2);
}
const load = loadavg()[0]!;
const toks = positionals.map((dir) => ({ dir, tok: ImageTokenizer.load(dir) }));
const rng = new Rng(99);
const images: RgbImage[] = Array.from({ length: Math.max(...batches) }, () => renderScene(sampleScene(rng, 'train'), 64));

// ms per call, per tokenizer and batch: [encode rounds, decode rounds]
const times = new Map<string, { encode: number[]; decode: number[] }>();
const key = (dir: string, b: number): string => `${dir}|${b}`;
for (let r = 0; r <= rounds; r++) {
  for (const b of batches) {
    for (const { dir, tok } of toks) {
      const batch = images.slice(0, b);
      let t0 = performance.now();
      const grids = tok.encode(batch);
      const enc = performance.now() - t0;
      t0 = performance.now();
      tok.decode(grids);
      const dec = performance.now() - t0;
      if (r === 0) continue; // warm-up round
      const t = times.get(key(dir, b)) ?? { encode: [], decode: [] };
      t.encode.push(enc);
      t.decode.push(dec);
      times.set(key(dir, b), t);
    }
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows = toks.flatMap(({ dir, tok }) => batches.map((b) => {
  const t = times.get(key(dir, b))!;
  return { tokenizer: dir, parameters: tok.numParameters(), batch: b, encodeMs: median(t.encode), decodeMs: median(t.decode) };
}));
console.log(`${cpus().length} CPUs (${cpus()[0]?.model}), load ${load.toFixed(2)} at start, median of ${rounds} rounds`);
console.log('| tokenizer | parameters | batch | encode ms / image | decode ms / image |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.tokenizer} | ${(r.parameters / 1e6).toFixed(2)} M | ${r.batch} | ${(r.encodeMs / r.batch).toFixed(1)} | ${(r.decodeMs / r.batch).toFixed(1)} |`);
}
if (values.json) writeFileSync(values.json, `${JSON.stringify({ date: new Date().toISOString(), load, cpus: cpus().length, rows }, null, 2)}\n`);
