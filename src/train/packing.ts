/**
 * Sequence packing: documents (token arrays) are concatenated into one stream in a seeded order
 * and cut into rows of seqLen + 1 tokens (inputs are the first seqLen, targets the last seqLen), so
 * no compute is spent on padding. A BatchSource over packed rows is deterministic in the step.
 */
import { Rng } from '../tensor/index.js';
import type { Batch, BatchSource } from './trainer.js';

export interface PackOptions {
  seqLen: number;
  seed: number;
  /** Applied to each document as it is packed (e.g. the CM3 transform); gets a seeded rng. */
  transform?: (doc: Int32Array, rng: Rng) => Int32Array;
}

/** Packs one epoch of documents into rows of seqLen + 1 tokens (the tail that does not fill a row is dropped). */
export function packDocuments(docs: readonly Int32Array[], o: PackOptions & { epoch: number }): Int32Array[] {
  const rng = new Rng(o.seed * 1_000_003 + o.epoch);
  const order = docs.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const rows: Int32Array[] = [];
  let row = new Int32Array(o.seqLen + 1);
  let fill = 0;
  for (const i of order) {
    const doc = o.transform ? o.transform(docs[i]!, rng) : docs[i]!;
    let at = 0;
    while (at < doc.length) {
      const n = Math.min(doc.length - at, row.length - fill);
      row.set(doc.subarray(at, at + n), fill);
      fill += n;
      at += n;
      if (fill === row.length) {
        rows.push(row);
        // Rows overlap by one token, so every token is a target exactly once.
        const last = row[row.length - 1]!;
        row = new Int32Array(o.seqLen + 1);
        row[0] = last;
        fill = 1;
      }
    }
  }
  return rows;
}

/** Batches of packed rows; epoch e uses its own packing order, computed when first needed. */
export class PackedSource implements BatchSource {
  private epochs = new Map<number, Int32Array[]>();
  private readonly rowsPerEpoch: number;

  constructor(
    private readonly docs: readonly Int32Array[],
    private readonly evalDocs: readonly Int32Array[],
    readonly batchSize: number,
    private readonly o: PackOptions & { accumulate?: number; evalRows?: number },
  ) {
    this.rowsPerEpoch = this.rows(0).length;
    if (this.rowsPerEpoch < batchSize) throw new Error(`packing: the training documents fill ${this.rowsPerEpoch} rows of ${o.seqLen + 1} tokens, fewer than one batch of ${batchSize}`);
  }

  get seqLen(): number {
    return this.o.seqLen;
  }

  private rows(epoch: number): Int32Array[] {
    let r = this.epochs.get(epoch);
    if (!r) {
      r = packDocuments(this.docs, { ...this.o, epoch });
      this.epochs.clear();
      this.epochs.set(epoch, r);
    }
    return r;
  }

  batch(step: number, micro: number): Batch {
    const t = this.o.seqLen;
    const ids = new Int32Array(this.batchSize * t);
    const targets = new Int32Array(this.batchSize * t);
    const first = (step * (this.o.accumulate ?? 1) + micro) * this.batchSize;
    for (let b = 0; b < this.batchSize; b++) {
      const index = first + b;
      const rows = this.rows(Math.floor(index / this.rowsPerEpoch));
      const row = rows[index % this.rowsPerEpoch] ?? rows[(index % this.rowsPerEpoch) % rows.length]!;
      ids.set(row.subarray(0, t), b * t);
      targets.set(row.subarray(1, t + 1), b * t);
    }
    return { ids, targets };
  }

  evalBatches(): Batch[] {
    const rows = packDocuments(this.evalDocs, { ...this.o, transform: this.o.transform, epoch: 0, seed: this.o.seed + 7 });
    const t = this.o.seqLen;
    const n = Math.min(rows.length, this.o.evalRows ?? 64);
    const out: Batch[] = [];
    for (let i = 0; i + this.batchSize <= n; i += this.batchSize) {
      const ids = new Int32Array(this.batchSize * t);
      const targets = new Int32Array(this.batchSize * t);
      for (let b = 0; b < this.batchSize; b++) {
        ids.set(rows[i + b]!.subarray(0, t), b * t);
        targets.set(rows[i + b]!.subarray(1, t + 1), b * t);
      }
      out.push({ ids, targets });
    }
    return out;
  }
}
