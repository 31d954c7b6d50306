/**
 * Times image-tokenizer training steps (forward, backward, AdamW) for a few configs on random
 * images: `node dist/bench/vq-step.js [--batch 16] [--steps 5]`. For sizing the model to the CPU.
 */
import { parseArgs } from 'node:util';
import { AdamW } from '../src/nn/index.js';
import { abs, add, backward, mean, mul, sub, tensor, tidy, Rng } from '../src/tensor/index.js';
import '../src/index.js';
import { vqConfigFor, type VqConfig } from '../src/tokenizers/vq/config.js';
import { ImageTokenizer } from '../src/tokenizers/vq/image-tokenizer.js';

const { values } = parseArgs({ options: { batch: { type: 'string' }, steps: { type: 'string' }, width: { type: 'string' } } });
const batch = Number(values.batch ?? 16);
const steps = Number(values.steps ?? 5);
const width = Number(values.width ?? 32);

function time(name: string, c: VqConfig): void {
  const model = new ImageTokenizer(c, 1);
  const opt = new AdamW(model.parameters(), { lr: 1e-3 });
  const rng = new Rng(0);
  const x = Float32Array.from({ length: batch * 3 * c.imageSize ** 2 }, () => rng.uniform() * 2 - 1);
  const times: number[] = [];
  for (let s = 0; s < steps + 1; s++) {
    const t0 = performance.now();
    tidy(() => {
      const xt = tensor(x, [batch, 3, c.imageSize, c.imageSize]);
      const { recon, quant } = model.forward(xt);
      const loss = add(add(mean(abs(sub(recon, xt))), quant.codebookLoss), mul(quant.commitLoss, 0.25));
      backward(loss);
      opt.stepUpdate();
      opt.zeroGrad();
    });
    if (process.env.VQ_VERBOSE) console.log(`step ${s}: ${(performance.now() - t0).toFixed(0)} ms`);
    if (s > 0) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const med = times[Math.floor(times.length / 2)]!;
  console.log(`${name}: params ${(model.numParameters() / 1e6).toFixed(2)}M, step ${med.toFixed(0)} ms, ${(batch / (med / 1000)).toFixed(1)} images/s`);
}

time(`grid16 w${width}`, vqConfigFor({ grid: 16, width }));
time(`grid8 w${width}`, vqConfigFor({ grid: 8, width }));
