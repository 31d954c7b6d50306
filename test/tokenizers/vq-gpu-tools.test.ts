/**
 * The offline GPU machine's decoder training (bench/gpu/pack-vq-data, then
 * `cm3leon tokenizer train-image --pack`), run here on the CPU backend: the pack holds every training image once and the oversampled draw
 * list, and two training steps change the decoder only (the encoder, so every code, stays).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { buildShapes } from '../../src/data/shapes-build.js';
import { ImageTokenizer } from '../../src/tokenizers/vq/image-tokenizer.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const dist = join(root, 'dist');

test('pack, then two decoder-only steps on the CPU backend: the encoder is untouched, the decoder learns', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-vq-gpu-'));
  try {
    await buildShapes({ n: 12, seed: 4, out: join(dir, 'shapes') });
    const pack = join(dir, 'pack.bin.gz');
    const p = spawnSync(process.execPath, [join(dist, 'bench/gpu/pack-vq-data.js'), '--data', join(dir, 'shapes'), '--oversample-small', '3', '-o', pack], { encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    const body = gunzipSync(readFileSync(pack));
    const nl = body.indexOf(10);
    const header = JSON.parse(body.subarray(0, nl).toString('utf8')) as { count: number; draw: number[]; size: number };
    assert.equal(body.length - nl - 1, header.count * 64 * 64 * 3);
    assert.ok(header.draw.length > header.count, 'small-object scenes are drawn more than once');
    assert.ok(header.draw.every((i) => Number.isInteger(i) && i >= 0 && i < header.count));
    // --recolour N adds N scenes drawn again in other colours, after the dataset's own images.
    const packR = join(dir, 'pack-r.bin.gz');
    const pr = spawnSync(process.execPath, [join(dist, 'bench/gpu/pack-vq-data.js'), '--data', join(dir, 'shapes'), '--recolour', '5', '-o', packR], { encoding: 'utf8' });
    assert.equal(pr.status, 0, pr.stderr);
    const bodyR = gunzipSync(readFileSync(packR));
    const nlR = bodyR.indexOf(10);
    const headerR = JSON.parse(bodyR.subarray(0, nlR).toString('utf8')) as { count: number; recoloured: number };
    assert.equal(headerR.count, header.count + 5);
    assert.equal(headerR.recoloured, 5);
    assert.ok(bodyR.subarray(nlR + 1, nlR + 1 + header.count * 64 * 64 * 3).equals(body.subarray(nl + 1)), 'the dataset images come first, unchanged');
    const bad = spawnSync(process.execPath, [join(dist, 'bench/gpu/pack-vq-data.js'), '--data', join(dir, 'shapes'), '--recolour', '2.5', '-o', packR], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--recolour must be a whole number, got '2.5'/);

    const out = join(dir, 'vq');
    const t = spawnSync(process.execPath, [
      join(dist, 'src/cli/main.js'), 'tokenizer', 'train-image', '--pack', pack, '--init', join(root, 'models/image-tokenizer'), '--decoder-only', '--device', 'cpu',
      '--steps', '2', '--batch', '2', '--adversarial', '0.1', '-o', out,
    ], { encoding: 'utf8', cwd: root });
    assert.equal(t.status, 0, t.stderr);
    const before = ImageTokenizer.load(join(root, 'models/image-tokenizer')).stateDict();
    const after = ImageTokenizer.load(out).stateDict();
    let decoderMoved = 0;
    for (const [name, v] of before) {
      const same = v.data.every((x, i) => x === after.get(name)!.data[i]);
      if (name.startsWith('decoder.')) decoderMoved += same ? 0 : 1;
      else assert.ok(same, `${name} changed`);
    }
    assert.ok(decoderMoved > 0);
    assert.match(readFileSync(join(out, 'metrics.jsonl'), 'utf8'), /"step":2,"loss"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
