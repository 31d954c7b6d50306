// GFLOP/s of the native addon's gemm (build it first: npm run build:native).
//   node bench/gemm-native.mjs [--threads=1,2] [--isa=avx512|avx2|scalar] [--quick]
//   node bench/gemm-native.mjs --decode [--threads=1] [--isa=...] [--rows=1,2,4] [--rounds=9] [--hot]
//                              [--addons=a.node,b.node]
// Square n x n products (no transposes) and the shapes of a GPT training step (M = 1024 tokens,
// Linear layers with (N, K) = (out, in) features): every transpose combination of M x N x K, plus the
// Linear layer's three products: forward Y = X W^T, dX = dY W and dW = dY^T X; then n = 1024 on
// every ISA path the CPU has. Median of several runs; prints JSON. The numbers are only meaningful
// on an otherwise idle machine.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// --decode: instead, the Linear products of one decoding step of the `small` architecture (width
// 256, 4 layers; qkv 768 x 256, proj 256 x 256, fc1 1024 x 256, fc2 256 x 1024 and the image-code
// output head 1024 x 256), Y (M x N) = X (M x K) W^T at M = 1, 2, 4 rows (streams): median
// microseconds per product. Every layer has its own weights, so the whole model's weights cycle
// through the caches as they do in decoding (--hot: one product repeated, its weights in L2).
// --addons (comma-separated .node files, e.g. a copy of the build before a change) runs each build
// in alternating rounds of the same process, so load from other jobs falls on all of them alike.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const require = createRequire(import.meta.url);
const addonPaths = (args.addons ?? path.join(root, 'build/Release/cm3leon_native.node')).split(',');
const native = require(path.resolve(addonPaths[0]));
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

if (args.decode) {
  decodeShapes();
  process.exit(0);
}

function decodeShapes() {
  const addons = addonPaths.map((p) => require(path.resolve(p)));
  const threads = Number(args.threads ?? 1);
  for (const a of addons) {
    a.setThreads(threads);
    if (args.isa) a.setIsa(args.isa);
  }
  const rowsList = (args.rows ?? '1,2,4').split(',').map(Number);
  const rounds = Number(args.rounds ?? (quick ? 3 : 9));
  const steps = quick ? 20 : 60;
  const hot = args.hot === 'true';
  const width = 256, layers = 4, vocab = 5120, codes = 1024;
  const kinds = { qkv: [3 * width, width], proj: [width, width], fc1: [4 * width, width], fc2: [width, 4 * width], head: [codes, width] };
  const W = {};
  for (const [name, [n, k]] of Object.entries(kinds)) W[name] = Array.from({ length: name === 'head' ? 1 : layers }, () => rand(n * k));
  const table = rand(vocab * width); // the head reads the image codes' rows of the tied embedding
  const headOff = (vocab - codes) * width;
  const X = Object.fromEntries(rowsList.map((m) => [m, rand(m * 4 * width)]));
  const C = new Float32Array(16 * vocab);
  const product = (a, name, l, m) => {
    const [n, k] = kinds[name];
    const [B, off] = name === 'head' ? [table, headOff] : [W[name][l], 0];
    a.gemm(false, true, m, n, k, 1, X[m], 0, k, 0, B, off, k, 0, 0, C, 0, n, 0, 1);
  };
  // One round: `steps` decoding steps (or repeats of each product alone, --hot) at m rows; the
  // median microseconds of each product kind.
  const round = (a, m) => {
    const t = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
    const timed = (name, l) => {
      const s = process.hrtime.bigint();
      product(a, name, l, m);
      t[name].push(Number(process.hrtime.bigint() - s) / 1e3);
    };
    if (hot) {
      for (const name of Object.keys(kinds)) for (let i = 0; i < steps; i++) timed(name, 0);
    } else {
      for (let i = 0; i < steps; i++) {
        for (let l = 0; l < layers; l++) for (const name of ['qkv', 'proj', 'fc1', 'fc2']) timed(name, l);
        timed('head', 0);
      }
    }
    return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.sort((x, y) => x - y)[v.length >> 1]]));
  };
  const all = addons.map(() => Object.fromEntries(rowsList.map((m) => [m, []])));
  for (let r = -1; r < rounds; r++) // round -1 warms up
    for (const m of rowsList)
      addons.forEach((a, i) => {
        const res = round(a, m);
        if (r >= 0) all[i][m].push(res);
      });
  const med = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
  const out = { isa: native.info().isa, threads, hot, rounds, steps, builds: {} };
  addons.forEach((_, i) => {
    const byM = {};
    for (const m of rowsList) {
      byM[`M${m}`] = {};
      for (const k of Object.keys(kinds)) byM[`M${m}`][k] = +med(all[i][m].map((x) => x[k])).toFixed(2);
      // A decoding step's Linear products: 4 layers of qkv, proj, fc1, fc2 and the head.
      byM[`M${m}`].step = +Object.keys(kinds).reduce((s, k) => s + (k === 'head' ? 1 : layers) * byM[`M${m}`][k], 0).toFixed(1);
    }
    if (rowsList.includes(1))
      for (const m of rowsList.filter((x) => x !== 1)) {
        byM[`ratio${m}`] = {};
        for (const k of [...Object.keys(kinds), 'step']) byM[`ratio${m}`][k] = +(byM[`M${m}`][k] / byM.M1[k]).toFixed(2);
      }
    out.builds[path.basename(addonPaths[i])] = byM;
  });
  console.log(JSON.stringify(out, null, 1));
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
