/** Child process for the SIGKILL test: trains until killed, checkpointing every 2 steps. */
import { train } from '../../src/train/trainer.js';
import { source, tinyModel } from './fixtures.js';

const runDir = process.argv[2]!;
await train(tinyModel(), source(), { runDir, steps: 100000, lr: 1e-3, warmup: 2, checkpointEvery: 2, evalEvery: 1000, logEvery: 1, log: (l) => process.stdout.write(`${l}\n`) });
