/**
 * safetensors read/write (the Hugging Face format): an 8-byte little-endian header length, a JSON
 * header {name: {dtype, shape, data_offsets}, __metadata__?}, then the packed tensor bytes.
 * Reading validates everything before touching data — header size, JSON, dtypes, shapes, that
 * offsets are in bounds, match the shape and do not overlap — so a corrupt file is refused with a
 * clear message and never read out of bounds. Files are written atomically (temp file + rename).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, unlinkSync } from 'node:fs';
import type { TypedArray } from '../tensor/index.js';

export type SafeDType = 'F32' | 'I32' | 'F64' | 'F16' | 'BF16' | 'I64' | 'U8' | 'I8' | 'BOOL' | 'I16' | 'U16' | 'U32' | 'U64' | 'F8_E4M3' | 'F8_E5M2';

const BYTES: Record<SafeDType, number> = { F32: 4, I32: 4, F64: 8, F16: 2, BF16: 2, I64: 8, U8: 1, I8: 1, BOOL: 1, I16: 2, U16: 2, U32: 4, U64: 8, F8_E4M3: 1, F8_E5M2: 1 };

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  /** F32/I32/F64 decoded to typed arrays; other dtypes as raw little-endian bytes. */
  data: TypedArray | Uint8Array;
}

export interface SafeFile {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

const MAX_HEADER = 100 * 1024 * 1024;

class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

function fail(source: string, msg: string): never {
  throw new SafetensorsError(`safetensors: ${source}: ${msg}`);
}

/** Parses a safetensors buffer; `source` names it in error messages. */
export function readSafetensors(buf: Uint8Array, source = 'buffer'): SafeFile {
  if (buf.length < 8) fail(source, `file is ${buf.length} bytes, too short for the 8-byte header length`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = dv.getBigUint64(0, true);
  if (headerLen > BigInt(Math.min(MAX_HEADER, buf.length - 8))) fail(source, `header length ${headerLen} exceeds the file (${buf.length} bytes) or the 100 MB limit`);
  const n = Number(headerLen);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + n)));
  } catch (err) {
    fail(source, `header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail(source, 'header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = buf.length - dataStart;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Object.values(entry).some((v) => typeof v !== 'string')) fail(source, '__metadata__ must map strings to strings');
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e === null || typeof e !== 'object') fail(source, `entry '${name}' is not an object`);
    if (typeof e.dtype !== 'string' || !(e.dtype in BYTES)) fail(source, `tensor '${name}' has unknown dtype ${JSON.stringify(e.dtype)}`);
    const dtype = e.dtype as SafeDType;
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(source, `tensor '${name}' has invalid shape ${JSON.stringify(e.shape)}`);
    const shape = e.shape as number[];
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || off.some((o) => !Number.isSafeInteger(o) || o < 0) || off[0] > off[1]) {
      fail(source, `tensor '${name}' has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (end > dataLen) fail(source, `tensor '${name}' data [${begin}, ${end}) runs past the end of the data (${dataLen} bytes): file truncated?`);
    const count = shape.reduce((a, d) => a * d, 1);
    if (count * BYTES[dtype] !== end - begin) fail(source, `tensor '${name}' shape [${shape.join(', ')}] ${dtype} needs ${count * BYTES[dtype]} bytes, offsets give ${end - begin}`);
    ranges.push([begin, end, name]);
    // A copy (Buffer.slice would alias the whole file), aligned for typed arrays.
    const bytes = new Uint8Array(buf.subarray(dataStart + begin, dataStart + end));
    let data: TypedArray | Uint8Array = bytes;
    if (dtype === 'F32') data = new Float32Array(bytes.buffer, 0, count);
    else if (dtype === 'I32') data = new Int32Array(bytes.buffer, 0, count);
    else if (dtype === 'F64') data = new Float64Array(bytes.buffer, 0, count);
    tensors.set(name, { dtype, shape, data });
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i]![0] < ranges[i - 1]![1]) fail(source, `tensors '${ranges[i - 1]![2]}' and '${ranges[i]![2]}' overlap`);
  }
  return { tensors, metadata };
}

export function loadSafetensors(path: string): SafeFile {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new SafetensorsError(`safetensors: cannot read ${path}: ${(err as Error).message}`);
  }
  return readSafetensors(buf, path);
}

function dtypeName(a: TypedArray | Uint8Array): SafeDType {
  if (a instanceof Float32Array) return 'F32';
  if (a instanceof Int32Array) return 'I32';
  if (a instanceof Float64Array) return 'F64';
  return 'U8';
}

export type TensorEntry = { shape: readonly number[]; data: TypedArray | Uint8Array; dtype?: SafeDType };

/** Serialises tensors (in the given order) and string metadata to safetensors bytes. */
export function writeSafetensors(tensors: Map<string, TensorEntry> | Record<string, TensorEntry>, metadata: Record<string, string> = {}): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new Error('safetensors: "__metadata__" is not a valid tensor name');
    const dtype = t.dtype ?? dtypeName(t.data);
    const count = t.shape.reduce((a, d) => a * d, 1);
    if (count * BYTES[dtype] !== t.data.byteLength) throw new Error(`safetensors: tensor '${name}' shape [${t.shape.join(', ')}] does not match its ${t.data.byteLength} bytes`);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const hbytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hbytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let at = 8 + hbytes.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

/** Writes bytes to path atomically: a temp file in the same directory, fsync, then rename. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    if (typeof bytes === "string") writeSync(fd, bytes);
    else writeSync(fd, bytes);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

export function saveSafetensors(path: string, tensors: Map<string, TensorEntry> | Record<string, TensorEntry>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, writeSafetensors(tensors, metadata));
}
