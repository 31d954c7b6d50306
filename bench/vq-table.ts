/**
 * The image tokenizer evaluation table: `node dist/bench/vq-table.js runs/a runs/b ... [--data d1,d2]
 * [--sheet-dir docs/images] [--json out.json]`. Evaluates each saved tokenizer on the held-out split
 * (PSNR, SSIM, codebook perplexity and usage, Shapes scenes that still parse) and prints a markdown table.
 */
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { setNumThreads } from '../src/index.js';
import { ImageTokenizer, evaluateTokenizer, formatEvaluation, type Evaluation } from '../src/tokenizers/vq/index.js';

const { values, positionals } = parseArgs({
  options: { data: { type: 'string' }, 'sheet-dir': { type: 'string' }, json: { type: 'string' }, threads: { type: 'string' }, limit: { type: 'string' } },
  allowPositionals: true,
});
if (values.threads) setNumThreads(Number(values.threads));
const dirs = String(values.data ?? 'data/shapes,data/emoji').split(',');
const rows: (Evaluation & { model: string; trainedSteps?: number; trainSeconds?: number })[] = [];
for (const model of positionals) {
  const tok = ImageTokenizer.load(model);
  const sheet = values['sheet-dir'] ? join(values['sheet-dir'], `vq-${basename(model)}.png`) : undefined;
  const r = await evaluateTokenizer(tok, { dirs, split: 'heldout', sheet, limitPerDataset: values.limit ? Number(values.limit) : undefined });
  const cfg = (await import('node:fs')).readFileSync(join(model, 'config.json'), 'utf8');
  const meta = JSON.parse(cfg) as { trainedSteps?: number; trainSeconds?: number };
  rows.push({ ...r, model, trainedSteps: meta.trainedSteps, trainSeconds: meta.trainSeconds });
  console.error(`${model}\n${formatEvaluation(r)}`);
}
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
console.log('| model | grid | codebook | steps | PSNR shapes | PSNR emoji | PSNR all | SSIM all | perplexity | codes used | shapes parse (orig) |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const d = (name: string) => r.perDataset.find((p) => p.dataset.includes(name))?.psnr.toFixed(2) ?? '-';
  console.log(`| ${basename(r.model)} | ${r.grid}x${r.grid} | ${r.codebookSize} | ${r.trainedSteps ?? '?'} | ${d('shapes')} | ${d('emoji')} | ${r.psnr.toFixed(2)} | ${r.ssim.toFixed(3)} | ` +
    `${r.perplexity.toFixed(0)} | ${pct(r.usedFraction)} | ${r.shapes ? `${pct(r.shapes.fractionRoundTrip)} (${pct(r.shapes.fractionOriginal)})` : '-'} |`);
}
if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 2));
