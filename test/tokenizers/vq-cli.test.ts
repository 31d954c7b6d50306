/** `cm3leon tokenizer encode | decode | roundtrip` end to end on a tiny untrained tokenizer, and their errors. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import '../../src/index.js';
import { Rng, encodePng, readPng, renderScene, sampleScene, writeImage } from '../../src/data/index.js';
import { ImageTokenizer, type VqConfig } from '../../src/tokenizers/vq/index.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'cm3leon-vq-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const TINY: VqConfig = { imageSize: 32, factor: 4, codebookSize: 16, codeDim: 8, channels: [8, 8, 8], resBlocks: [0, 1, 1], groups: 4 };
const tokDir = join(dir, 'tok');
const tok = new ImageTokenizer(TINY, 1);
tok.save(tokDir);

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [main, 'tokenizer', ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const scene = renderScene(sampleScene(new Rng(2), 'train'), 32);
const png = join(dir, 'scene.png');
writeFileSync(png, encodePng(scene));

test('encode prints the grid, decode writes a PNG, roundtrip prints PSNR', () => {
  const enc = cli('encode', png, '--tokenizer', tokDir);
  assert.equal(enc.code, 0, enc.err);
  const rows = enc.out.trim().split('\n');
  assert.equal(rows.length, 8);
  assert.equal(rows[0]!.trim().split(/\s+/).length, 8);
  const json = cli('encode', png, '--tokenizer', tokDir, '--json');
  const parsed = JSON.parse(json.out) as { grid: number; codes: number[] };
  assert.equal(parsed.grid, 8);
  assert.deepEqual(parsed.codes, Array.from(tok.encode([scene])[0]!));
  assert.deepEqual(parsed.codes, rows.flatMap((r) => r.trim().split(/\s+/).map(Number)));
  writeFileSync(join(dir, 'codes.json'), json.out);
  const out = join(dir, 'out', 'dec.png');
  const dec = cli('decode', join(dir, 'codes.json'), '-o', out, '--tokenizer', tokDir);
  assert.equal(dec.code, 0, dec.err);
  assert.deepEqual(readPng(out).rgb, tok.decode([parsed.codes])[0]!.rgb);
  // The plain grid that `encode` prints is accepted too.
  writeFileSync(join(dir, 'codes.txt'), enc.out);
  assert.equal(cli('decode', join(dir, 'codes.txt'), '-o', join(dir, 'dec2.png'), '--tokenizer', tokDir).code, 0);
  const rt = cli('roundtrip', png, '-o', join(dir, 'rt.png'), '--tokenizer', tokDir);
  assert.equal(rt.code, 0, rt.err);
  assert.match(rt.out, /^PSNR \d+\.\d\d dB, SSIM [\d.]+; 8x8 = 64 codes; wrote /);
  assert.ok(existsSync(join(dir, 'rt.png')));
});

test('other sizes are resized; grey and alpha PNGs are converted; other formats are read', async () => {
  const big = renderScene(sampleScene(new Rng(3), 'train'), 64);
  writeFileSync(join(dir, 'big.png'), encodePng(big));
  const rt = cli('roundtrip', join(dir, 'big.png'), '-o', join(dir, 'rt2.png'), '--tokenizer', tokDir);
  assert.equal(rt.code, 0, rt.err);
  assert.match(rt.out, /compared with the input resized from 64x64/);
  const grey = new PNG({ width: 20, height: 20, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  grey.data = Buffer.alloc(400, 128);
  writeFileSync(join(dir, 'grey.png'), PNG.sync.write(grey, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
  assert.equal(cli('encode', join(dir, 'grey.png'), '--tokenizer', tokDir).code, 0);
  await writeImage(join(dir, 'photo.jpg'), big);
  const jpeg = cli('encode', join(dir, 'photo.jpg'), '--tokenizer', tokDir);
  assert.equal(jpeg.code, 0, jpeg.err);
});

test('bad input gives one clear line and exit code 2', () => {
  writeFileSync(join(dir, 'text.png'), 'not an image');
  let r = cli('encode', join(dir, 'text.png'), '--tokenizer', tokDir);
  assert.equal(r.code, 2);
  assert.match(r.err, /text.png: not an image in a supported format/);
  writeFileSync(join(dir, 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0, 0, 0, 0, 0]));
  assert.match(cli('encode', join(dir, 'broken.jpg'), '--tokenizer', tokDir).err, /broken.jpg: corrupt header/);
  const bytes = encodePng(scene);
  writeFileSync(join(dir, 'cut.png'), bytes.subarray(0, 60));
  r = cli('encode', join(dir, 'cut.png'), '--tokenizer', tokDir);
  assert.equal(r.code, 2);
  assert.match(r.err, /cut.png: truncated or corrupt/);
  const huge = Buffer.from(bytes);
  huge.writeUInt32BE(20000, 16);
  huge.writeUInt32BE(20000, 20);
  writeFileSync(join(dir, 'huge.png'), huge);
  assert.match(cli('encode', join(dir, 'huge.png'), '--tokenizer', tokDir).err, /huge.png: 20000x20000 is 400.0 megapixels, over the limit of 100.0 megapixels/);
  writeFileSync(join(dir, 'short.json'), JSON.stringify({ codes: [1, 2, 3] }));
  r = cli('decode', join(dir, 'short.json'), '-o', join(dir, 'x.png'), '--tokenizer', tokDir);
  assert.equal(r.code, 2);
  assert.match(r.err, /grid 0 has 3 codes, this tokenizer needs 64 \(a 8x8 grid\)/);
  writeFileSync(join(dir, 'big.json'), JSON.stringify(Array(64).fill(16)));
  assert.match(cli('decode', join(dir, 'big.json'), '-o', join(dir, 'x.png'), '--tokenizer', tokDir).err, /code 16 at index 0 \(row 0, column 0\) is outside the codebook 0..15/);
  writeFileSync(join(dir, 'words.json'), '["a"]');
  assert.match(cli('decode', join(dir, 'words.json'), '-o', join(dir, 'x.png'), '--tokenizer', tokDir).err, /item 0 \("a"\) is not an integer code/);
  assert.match(cli('encode', png, '--tokenizer', join(dir, 'none')).err, /no image tokenizer at/);
  assert.match(cli('train-image', '--grid', '5').err, /--grid 5 does not divide/);
  assert.match(cli('train-image', '--oversample-small', '0').err, /--oversample-small must be 1 or more, got 0/);
  assert.match(cli('train-image', '--oversample-small', '2.5').err, /--oversample-small must be a whole number/);
  assert.match(cli('train-image', '--recolour', '1.5').err, /--recolour must be a whole number, got '1.5'/);
  assert.match(cli('train-image', '--contrast=-1').err, /--contrast must be a non-negative number, got '-1'/);
  assert.match(cli('train-image', '--encoder-only').err, /--encoder-only needs --init DIR/);
  assert.match(cli('train-image', '--encoder-only', '--decoder-only', '--init', tokDir).err, /exclude each other/);
  assert.match(cli('train-image', '--encoder-only', '--decoder-blocks', '2,2,4', '--init', tokDir).err, /--decoder-blocks grows the decoder, which --encoder-only keeps fixed/);
});

test('train-image and train-encoder check --device before any work', () => {
  assert.match(cli('train-image', '--device', 'tpu').err, /train-image: --device: unknown device 'tpu'/);
  assert.match(cli('train-image', '--device', 'webgpu').err, /--device webgpu trains the image tokenizer with --decoder-only only/);
  const r = spawnSync(process.execPath, [main, 'index', 'train-encoder', '--data', dir, '-o', join(dir, 'enc'), '--device', 'tpu', '--text-tokenizer', join(dirname(fileURLToPath(import.meta.url)), '../../../models/text-tokenizer/tokenizer.json')], { encoding: 'utf8', cwd: dir });
  assert.match(r.stderr, /train-encoder: --device: unknown device 'tpu'/);
});
