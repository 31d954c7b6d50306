/**
 * The WebGPU backend in a browser: headless Debian Chromium (driven by playwright-core; no browser
 * is downloaded) loads the compiled backend and the tensor engine as plain ES modules from a
 * loopback server — so a Node-only import anywhere on that path fails the test — and runs a few
 * ops with gradients on Chromium's WebGPU adapter; the values must match the CPU backend's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize } from 'node:path';
import * as T from '../../src/index.js';
import { assertClose } from '../helpers.js';

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(chromiumPath) ? false : `no Chromium at ${chromiumPath} (scripts/ci/install-lavapipe.sh installs Debian's)`;

/** The computation, written once: runs in the page on webgpu and here on the cpu. */
const program = `
  const x = T.randn([2, 5, 16], { seed: 1, requiresGrad: true });
  const w = T.randn([24, 16], { seed: 2, requiresGrad: true });
  const h = T.gelu(T.matmul(T.layerNorm(x), T.transpose(w)));
  const qkv = T.reshape(h, [2, 5, 3, 2, 4]);
  const part = (i) => T.reshape(T.slice(qkv, 2, i, i + 1), [2, 5, 2, 4]);
  const a = T.reshape(T.attention(part(0), part(1), part(2)), [10, 8]);
  const targets = T.tensor(Int32Array.from([1, 7, 3, 0, 5, 2, 6, 4, 1, 3]), [10], { dtype: 'i32' });
  const loss = T.crossEntropy(T.softmax(a), targets);
  T.backward(loss);
  const outs = [loss, T.sum(a, 0), x.grad, w.grad];
`;

function serve(root: string): Promise<{ url: string; close: () => void }> {
  const types: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.map': 'application/json' };
  const server = http.createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = join(root, path === '/' ? 'index.html' : path);
    if (path === '/') {
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><title>cm3leon webgpu</title>');
    } else if (path.startsWith('/dist/') && file.startsWith(root) && existsSync(file) && statSync(file).isFile()) {
      res.setHeader('content-type', types[extname(file)] ?? 'application/octet-stream');
      res.end(readFileSync(file));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const addr = server.address() as { port: number };
    resolve({ url: `http://127.0.0.1:${addr.port}/`, close: () => server.close() });
  }));
}

test('the backend runs in headless Chromium and matches the cpu', { skip, timeout: 120_000 }, async () => {
  const { chromium } = await import('playwright-core');
  const server = await serve(process.cwd());
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    const got = (await page.evaluate(`(async () => {
      if (!navigator.gpu) return { error: 'navigator.gpu is missing' };
      const T = await import('/dist/src/tensor/index.js');
      const { initWebGpu } = await import('/dist/src/backends/webgpu/index.js');
      const gpu = await initWebGpu({ makeDefault: true });
      ${program}
      const values = [];
      for (const t of outs) values.push(Array.from(await t.data()));
      return { adapter: gpu.context.adapterName, backend: loss.backend.name, values };
    })()`)) as { error?: string; adapter?: string; backend?: string; values?: number[][] };
    assert.equal(got.error, undefined, got.error);
    assert.deepEqual(errors, []);
    assert.equal(got.backend, 'webgpu');
    const want = T.tidy(() => {
      const outs = new Function('T', `${program}; return outs.map((t) => Array.from(t.dataSync()));`)(T) as number[][];
      return outs;
    });
    want.forEach((w, i) => assertClose(got.values![i]!, w, 1e-4, `output ${i} (${got.adapter})`));
  } finally {
    await browser.close();
    server.close();
  }
});
