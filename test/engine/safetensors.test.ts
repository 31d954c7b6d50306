/** safetensors: round trips, atomic writes, and corrupt files refused without reading out of bounds. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors, readSafetensors, saveSafetensors, writeSafetensors } from '../../src/nn/safetensors.js';

const sample = (): Uint8Array =>
  writeSafetensors({
    a: { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    ids: { shape: [2], data: Int32Array.from([-100, 7]) },
    d: { shape: [], data: Float64Array.from([Math.PI]) },
  }, { note: 'hello' });

test('round trip keeps names, order, dtypes, shapes, values and metadata', () => {
  const f = readSafetensors(sample());
  assert.deepEqual([...f.tensors.keys()], ['a', 'ids', 'd']);
  assert.deepEqual(f.metadata, { note: 'hello' });
  assert.deepEqual(f.tensors.get('a')!.shape, [2, 3]);
  assert.deepEqual([...(f.tensors.get('a')!.data as Float32Array)], [1, 2, 3, 4, 5, 6]);
  assert.equal(f.tensors.get('ids')!.dtype, 'I32');
  assert.deepEqual([...(f.tensors.get('ids')!.data as Int32Array)], [-100, 7]);
  assert.equal((f.tensors.get('d')!.data as Float64Array)[0], Math.PI);
  // The header is padded so data starts 8-byte aligned, as the format recommends.
  const bytes = sample();
  assert.equal(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8, 0);
});

test('files are written atomically and read back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-st-'));
  const path = join(dir, 'w.safetensors');
  saveSafetensors(path, { x: { shape: [3], data: Float32Array.from([1, 2, 3]) } });
  assert.deepEqual(readdirSync(dir), ['w.safetensors']);
  assert.deepEqual([...(loadSafetensors(path).tensors.get('x')!.data as Float32Array)], [1, 2, 3]);
});

test('corrupt files are refused with a clear message', () => {
  const good = sample();
  const hlen = Number(new DataView(good.buffer).getBigUint64(0, true));
  const withHeader = (h: unknown, data = 24): Uint8Array => {
    const json = new TextEncoder().encode(JSON.stringify(h));
    const out = new Uint8Array(8 + json.length + data);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    return out;
  };
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(3), /too short/],
    [good.slice(0, 8 + hlen + 10), /runs past the end of the data .* truncated/],
    [(() => { const b = good.slice(); new DataView(b.buffer).setBigUint64(0, 1n << 60n, true); return b; })(), /header length .* exceeds/],
    [(() => { const b = good.slice(); b[9] = 0x7b; b[10] = 0x7b; return b; })(), /not valid UTF-8 JSON/],
    [withHeader([1, 2]), /not a JSON object/],
    [withHeader({ t: { dtype: 'F33', shape: [1], data_offsets: [0, 4] } }), /unknown dtype "F33"/],
    [withHeader({ t: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }), /invalid shape/],
    [withHeader({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }), /needs 8 bytes, offsets give 4/],
    [withHeader({ t: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }), /invalid data_offsets/],
    [withHeader({ t: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, u: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }), /overlap/],
    [withHeader({ __metadata__: { a: 1 } }), /__metadata__ must map strings to strings/],
  ];
  for (const [bytes, re] of cases) assert.throws(() => readSafetensors(bytes, 'bad.safetensors'), re);
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-st-'));
  writeFileSync(join(dir, 'bad.safetensors'), good.slice(0, 20));
  assert.throws(() => loadSafetensors(join(dir, 'bad.safetensors')), /safetensors: .*bad\.safetensors: /);
  assert.throws(() => loadSafetensors(join(dir, 'missing.safetensors')), /cannot read/);
  assert.ok(readFileSync(join(dir, 'bad.safetensors')).length === 20);
});
