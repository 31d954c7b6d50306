/**
 * Text tokenizer benchmark: encode throughput of our byte-level BPE against
 * `@huggingface/tokenizers` (pure JS) on the same text with the same vocabulary (our trained
 * tokenizer.json loaded into theirs), in one run. Prints one JSON object.
 *
 *   node dist/bench/bpe.js [--vocab-size 8192] [--reps 3]
 *
 * The corpus is real text from installed packages, read at run time in a fixed order: package
 * READMEs and licences (English), TypeScript's lib.es5.d.ts (English doc comments and code),
 * TypeScript's diagnostic messages in 7 languages, emoji names and keywords in 8 scripts from
 * emojibase-data. Two workloads: one encode call per line (captions, instructions) and one call
 * for the whole text. Each repetition uses fresh tokenizer objects, so per-word caches start
 * cold as they do when a dataset is tokenized once; the JSON reports medians.
 *
 * Deliberately not here: training speed comparisons (HF's trainer is Rust only), decode speed.
 */
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { trainBpe } from '../src/tokenizers/bpe-train.js';
import { loadTokenizerJson, saveTokenizerJson } from '../src/tokenizers/tokenizer-json.js';
import { cm3leonSpecialTokens } from '../src/tokenizers/vocabulary.js';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

function listFiles(dir: string, keep: (name: string) => boolean, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) listFiles(p, keep, out);
    else if (e.isFile() && keep(e.name)) out.push(p);
  }
  return out;
}

/** The benchmark text and where it came from (bytes per source). */
export function benchCorpus(): { text: string; sources: Record<string, number> } {
  const parts: Array<[string, string]> = [];
  const nodeModules = dirname(dirname(packageDir('typescript')));
  const docs = listFiles(nodeModules, (n) => /\.md$|^licen[cs]e/i.test(n)).map((p) => readFileSync(p, 'utf8'));
  parts.push(['package READMEs and licences', docs.join('\n')]);
  const tsLib = join(packageDir('typescript'), 'lib');
  parts.push(['typescript lib.es5.d.ts', readFileSync(join(tsLib, 'lib.es5.d.ts'), 'utf8')]);
  for (const locale of ['de', 'es', 'fr', 'ja', 'ko', 'ru', 'zh-cn']) {
    const messages = JSON.parse(readFileSync(join(tsLib, locale, 'diagnosticMessages.generated.json'), 'utf8'));
    parts.push([`typescript messages ${locale}`, Object.values(messages as Record<string, string>).join('\n')]);
  }
  const emoji = packageDir('emojibase-data');
  for (const locale of ['bn', 'en', 'hi', 'ja', 'ko', 'ru', 'th', 'zh']) {
    const data = JSON.parse(readFileSync(join(emoji, locale, 'data.json'), 'utf8')) as Array<{ label: string; tags?: string[] }>;
    parts.push([`emoji names ${locale}`, data.map((e) => `${e.label}: ${(e.tags ?? []).join(', ')}`).join('\n')]);
  }
  const sources: Record<string, number> = {};
  for (const [name, text] of parts) sources[name] = Buffer.byteLength(text);
  return { text: parts.map(([, t]) => t).join('\n'), sources };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function time<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const r = f();
  return [r, (performance.now() - t0) / 1000];
}

function main(): void {
  const { values } = parseArgs({ options: { 'vocab-size': { type: 'string' }, reps: { type: 'string' } } });
  const vocabSize = Number(values['vocab-size'] ?? 8192);
  const reps = Number(values.reps ?? 3);
  const { text, sources } = benchCorpus();
  const bytes = Buffer.byteLength(text);
  const lines = text.split('\n').filter((l) => l.length > 0);

  const [trained, trainSeconds] = time(() => trainBpe(text, { vocabSize, specials: cm3leonSpecialTokens() }));
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-bench-'));
  const path = join(dir, 'tokenizer.json');
  saveTokenizerJson(trained, path);
  const json = JSON.parse(readFileSync(path, 'utf8'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

  const ours = { lines: [] as number[], whole: [] as number[] };
  const theirs = { lines: [] as number[], whole: [] as number[] };
  let tokens = 0;
  let wholeTokens = 0;
  let identical = true;
  for (let r = 0; r < reps; r++) {
    // Both load the same file; fresh objects each repetition: cold caches, as when a dataset is
    // tokenized once.
    const a = loadTokenizerJson(path);
    const b = new Tokenizer(json, {});
    const [idsA, tA] = time(() => lines.map((l) => a.encode(l, { allowSpecial: true })));
    const [idsB, tB] = time(() => lines.map((l) => b.encode(l, { add_special_tokens: false }).ids));
    ours.lines.push(tA);
    theirs.lines.push(tB);
    if (r === 0) {
      tokens = idsA.reduce((n, x) => n + x.length, 0);
      identical = idsA.every((x, i) => x.length === idsB[i]!.length && x.every((id, j) => id === idsB[i]![j]));
    }
    const a2 = loadTokenizerJson(path);
    const b2 = new Tokenizer(json, {});
    const [wholeA, tA2] = time(() => a2.encode(text, { allowSpecial: true }));
    const [wholeB, tB2] = time(() => b2.encode(text, { add_special_tokens: false }).ids);
    ours.whole.push(tA2);
    theirs.whole.push(tB2);
    wholeTokens = wholeA.length;
    if (r === 0) identical &&= wholeA.length === wholeB.length && wholeA.every((id, j) => id === wholeB[j]);
  }

  // Per-line and whole-text token counts differ slightly (newlines join words across lines).
  const rate = (seconds: number, n = tokens) => ({
    seconds: round(seconds, 3),
    mbPerSecond: round(bytes / 1e6 / seconds, 2),
    tokensPerSecond: Math.round(n / seconds),
  });
  const result = {
    benchmark: 'bpe-encode',
    date: new Date().toISOString(),
    machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, node ${process.version}`,
    corpus: { bytes, lines: lines.length, tokens, bytesPerToken: round(bytes / tokens, 2), sources },
    vocabSize: trained.vocabSize,
    trainSeconds: round(trainSeconds, 2),
    identicalIds: identical,
    reps,
    perLine: {
      ours: rate(median(ours.lines)),
      huggingface: rate(median(theirs.lines)),
      ratio: round(median(theirs.lines) / median(ours.lines), 2),
    },
    wholeText: {
      ours: rate(median(ours.whole), wholeTokens),
      huggingface: rate(median(theirs.whole), wholeTokens),
      ratio: round(median(theirs.whole) / median(ours.whole), 2),
    },
  };
  console.log(JSON.stringify(result, null, 2));
  if (!identical) process.exitCode = 1;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

main();
