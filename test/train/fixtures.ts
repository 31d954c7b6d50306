/** A synthetic corpus with learnable structure, and a tiny decoder, for trainer tests. */
import { Rng } from '../../src/tensor/index.js';
import { Decoder } from '../../src/model/decoder.js';
import { PackedSource } from '../../src/train/packing.js';

export const VOCAB = 24;

/** Documents: a start token s in [2, 12) followed by s, s+1, s+2, ... (mod VOCAB), then <eos> = 1. */
export function corpus(n: number, seed: number): Int32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const s = 2 + rng.int(10);
    const len = 4 + rng.int(8);
    return Int32Array.from({ length: len + 1 }, (_, i) => (i === len ? 1 : 2 + ((s + i - 2) % (VOCAB - 2))));
  });
}

export function tinyModel(seed = 1): Decoder {
  return new Decoder({ vocabSize: VOCAB, dim: 32, heads: 2, layers: 2, maxPositions: 32, initStd: 0.02, seed });
}

export function source(): PackedSource {
  return new PackedSource(corpus(200, 1), corpus(40, 2), 4, { seqLen: 16, seed: 3, evalRows: 16 });
}
