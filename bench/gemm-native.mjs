// GFLOP/s of the native addon's gemm (build it first: npm run build:native).
//   node bench/gemm-native.mjs [--threads=1,2] [--isa=avx512|avx2|scalar] [--quick]
// Square n x n products (no transposes) and the shapes of a GPT training step (M = 1024 tokens,
// Linear layers with (N, K) = (out, in) features): every transpose combination of M x N x K, plus the
// Linear layer's three products: forward Y = X W^T, dX = dY W and dW = dY^T X; then n = 1024 on
// every ISA path the CPU has. Median of several runs; prints JSON. The numbers are only meaningful
// on an otherwise idle machine.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const native = createRequire(import.meta.url)(path.join(root, 'build/Release/cm3leon_native.node'));

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const maxThreads = native.info().threads;
const threadList = (args.threads ?? `1,${maxThreads}`).split(',').map(Number).filter((t, i, a) => a.indexOf(t) === i);
if (args.isa) native.setIsa(args.isa);
const quick = args.quick === 'true';

function rand(n) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

// Median GFLOP/s of C = op(A) op(B) for an M x N x K product.
function measure(transA, transB, M, N, K) {
  const A = rand(M * K), B = rand(K * N), C = new Float32Array(M * N);
  const lda = transA ? M : K, ldb = transB ? K : N;
  const run = () => native.gemm(transA, transB, M, N, K, 1, A, 0, lda, 0, B, 0, ldb, 0, 0, C, 0, N, 0, 1);
  const flops = 2 * M * N * K;
  const target = quick ? 0.05 : 0.25; // seconds per measurement
  let reps = 1;
  for (;;) { // calibrate so one sample takes >= ~10 ms
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) run();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (dt > 0.01) break;
    reps *= 2;
  }
  const samples = [];
  const t0 = performance.now();
  while (samples.length < 5 || (performance.now() - t0) / 1000 < target) {
    const s = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) run();
    samples.push(Number(process.hrtime.bigint() - s) / 1e9 / reps);
    if (samples.length >= 50) break;
  }
  samples.sort((a, b) => a - b);
  return +(flops / samples[samples.length >> 1] / 1e9).toFixed(1);
}

const tag = (tA, tB) => (tA ? 't' : 'n') + (tB ? 't' : 'n');
const result = { isa: native.info().isa, amx: native.info().amx, runs: [] };
for (const threads of threadList) {
  native.setThreads(threads);
  const square = {};
  for (const n of [256, 512, 1024, 2048]) square[n] = measure(false, false, n, n, n);
  const gpt = [];
  const M = 1024;
  for (const [N, K] of [[256, 256], [768, 256], [1024, 256], [256, 1024]]) {
    const row = { M, N, K };
    for (const tA of [false, true]) for (const tB of [false, true]) row[tag(tA, tB)] = measure(tA, tB, M, N, K);
    row.linear = {
      fwd: measure(false, true, M, N, K), // Y(M x N) = X(M x K) W(N x K)^T
      dX: measure(false, false, M, K, N), // dX(M x K) = dY(M x N) W(N x K)
      dW: measure(true, false, N, K, M), // dW(N x K) = dY(M x N)^T X(M x K)
    };
    gpt.push(row);
  }
  gpt.push({ M: 1024, N: 1024, K: 256, nt: measure(false, true, 1024, 1024, 256) });
  result.runs.push({ threads, square, gpt });
}
// Every ISA path the CPU supports, n = 1024 (unless --isa pinned one).
if (!args.isa) {
  result.isaN1024 = {};
  for (const isa of ['avx512', 'avx2', 'scalar']) {
    if (native.setIsa(isa) !== isa) continue;
    result.isaN1024[isa] = {};
    for (const threads of threadList) {
      native.setThreads(threads);
      result.isaN1024[isa][`threads${threads}`] = measure(false, false, 1024, 1024, 1024);
    }
  }
  native.setIsa(result.isa);
}
native.setThreads(maxThreads);
console.log(JSON.stringify(result, null, 1));
