/**
 * Retrieval at inference: a text (the caption to draw) -> the k documents to prepend, by the
 * bi-encoder and the memory bank with the paper's rules (relevance, documents with both modalities
 * first, diversity: no near-copy of the query, no near-duplicates). A text-only query has no image
 * list, so both documents come from the text search (rules.ts `twoPerQuery` with an empty image
 * list is the same thing).
 *
 * Also the default bank: `cm3leon generate --retrieve N` must work on a fresh clone, so the bank
 * is built on first use from the training splits of the installed data (data/emoji, data/shapes if
 * present, else built from the npm packages and the Shapes generator into the cache directory),
 * embedded by the shipped bi-encoder, stored with 64 px images, and cached by encoder version.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { decodePng, type RgbImage } from '../data/image.js';
import { applyRules } from './rules.js';
import { buildMemoryBank } from './build-bank.js';
import type { BiEncoder } from './encoders.js';
import { RetrievalInputError } from './errors.js';
import { openMemoryBank, type BankHit, type MemoryBank } from './memory-bank.js';

/** A retrieved document as the decoder reads it: its caption and its image's VQ codes. */
export interface RetrievedDocument {
  id: string;
  text: string;
  codes: Int32Array;
  score: number;
}

export interface RetrieverOptions {
  /** The model's image length (grid * grid): documents with other code counts are refused. */
  expectedCodes?: number;
  /**
   * The model's image tokenizer, for documents stored without codes but with an image (thumbnail):
   * their codes are computed when retrieved. The default bank stores 64 px images instead of codes,
   * which keeps its first-use build to about a minute.
   */
  encodeImage?: (image: RgbImage) => Int32Array;
  /**
   * The model's image tokenizer's codesVersion: a bank whose stored codes came from another
   * tokenizer (or from one it did not record) is refused, since its codes mean other pictures.
   */
  codesVersion?: string;
}

export class Retriever {
  constructor(readonly bank: MemoryBank, readonly encoder: BiEncoder, private readonly o: RetrieverOptions = {}) {}

  /** Opens `dir`, refusing a bank built by another encoder (or version). */
  static async open(dir: string, encoder: BiEncoder, o: RetrieverOptions = {}): Promise<Retriever> {
    const bank = await openMemoryBank(dir, { encoder: encoder.id });
    const stored = bank.info.imageTokenizer;
    if (o.codesVersion !== undefined && (bank.info.counts.withTokens ?? 0) > 0 && stored !== o.codesVersion) {
      bank.close();
      const made = stored ? `image tokenizer ${stored}` : 'an image tokenizer it did not record';
      throw new RetrievalInputError(`${dir} stores image codes made by ${made}; this model reads the codes of ${o.codesVersion}. Rebuild the bank with \`cm3leon retrieve build\` (its default tokenizer is the shipped one)`);
    }
    return new Retriever(bank, encoder, o);
  }

  /** The k documents to prepend for a text query (k = 0: none), best first. */
  async forText(text: string, k: number): Promise<RetrievedDocument[]> {
    if (!Number.isInteger(k) || k < 0) throw new RetrievalInputError(`retrieve: the number of documents must be a whole number >= 0, got ${k}`);
    if (k === 0) return [];
    const [query] = await this.encoder.embedText([text]);
    const hits = await this.bank.search(query!, Math.max(16, 8 * k), { withVectors: true, withTokens: true, withThumbnails: this.o.encodeImage !== undefined });
    return applyRules(hits.filter((h) => h.kind === 'both'), k).map((h) => this.document(h));
  }

  private document(h: BankHit): RetrievedDocument {
    let codes = h.imageTokens;
    if ((!codes || codes.length === 0) && h.thumbnail && this.o.encodeImage) codes = this.o.encodeImage(decodePng(h.thumbnail));
    if (!codes || codes.length === 0) throw new RetrievalInputError(`${this.bank.dir}: document ${h.id} has no image tokens (rebuild the bank with an image tokenizer)`);
    const expected = this.o.expectedCodes;
    if (expected !== undefined && codes.length !== expected) {
      throw new RetrievalInputError(`${this.bank.dir}: document ${h.id} has ${codes.length} image tokens, this model's images have ${expected} (the bank was built with another image tokenizer)`);
    }
    return { id: h.id, text: h.text ?? '', codes: Int32Array.from(codes), score: h.score };
  }

  close(): void {
    this.bank.close();
  }
}

/** Where cached banks and datasets live: $CM3LEON_CACHE, else $XDG_CACHE_HOME/cm3leon, else ~/.cache/cm3leon. */
export function cacheDir(): string {
  return process.env['CM3LEON_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'cm3leon');
}

export interface DefaultBankOptions {
  encoder: BiEncoder;
  /** Dataset directories to use when they exist (default data/emoji, data/shapes). */
  dataDirs?: string[];
  cache?: string;
  log?: (line: string) => void;
}

/** The directory of the default bank for this encoder and image tokenizer, building it first if needed. */
export async function ensureDefaultBank(o: DefaultBankOptions): Promise<string> {
  const cache = o.cache ?? cacheDir();
  const dir = join(cache, `memory-bank-${o.encoder.id.name}-${o.encoder.id.version}`);
  if (existsSync(join(dir, 'bank.json'))) return dir;
  const log = o.log ?? ((l: string) => console.error(l));
  mkdirSync(cache, { recursive: true });
  const wanted = o.dataDirs ?? ['data/emoji', 'data/shapes'];
  const data: string[] = [];
  for (const d of wanted) {
    if (existsSync(join(d, 'info.json'))) {
      data.push(d);
      continue;
    }
    const cached = join(cache, 'data', d.includes('shapes') ? 'shapes' : 'emoji');
    if (!existsSync(join(cached, 'info.json'))) {
      log(`retrieval: building ${cached} for the default memory bank (first use only)`);
      if (d.includes('shapes')) {
        const { buildShapes } = await import('../data/shapes-build.js');
        await buildShapes({ n: 2000, seed: 0, size: 64, out: cached, heldOutFraction: 0.1, log: () => {} });
      } else {
        const { buildEmoji } = await import('../data/emoji-build.js');
        await buildEmoji({ size: 64, out: cached, log: () => {} });
      }
    }
    data.push(cached);
  }
  log(`retrieval: building the default memory bank ${dir} from ${data.join(', ')} (training split; first use only)`);
  const bar = progressBar(log);
  // 64 px images rather than VQ codes: the codes of the two documents a prompt uses are computed
  // when retrieved (Retriever's encodeImage), so any model's image tokenizer can read this bank.
  await buildMemoryBank({ data, out: dir, encoder: o.encoder, thumbnails: 64, onProgress: bar });
  process.stderr.write('\n');
  return dir;
}

function progressBar(log: (l: string) => void): (done: number, total: number) => void {
  let last = -1;
  const t0 = performance.now();
  return (done, total) => {
    const pct = Math.floor((100 * done) / Math.max(1, total));
    if (pct === last) return;
    last = pct;
    const width = 30;
    const fill = Math.round((width * done) / Math.max(1, total));
    const line = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} documents, ${((performance.now() - t0) / 1000).toFixed(0)} s`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}`);
    else if (pct % 10 === 0) log(line);
  };
}
