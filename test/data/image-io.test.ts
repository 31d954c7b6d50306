import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';
import { DataInputError } from '../../src/data/errors.js';
import { createImage, encodePng, type RgbImage } from '../../src/data/image.js';
import { readImage, writeImage } from '../../src/data/index.js';
import { sceneAt } from '../../src/data/shapes-build.js';
import { renderScene } from '../../src/data/shapes-render.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function withDir(work: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cm3leon-image-io-'));
    try {
      await work(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const raw = (image: RgbImage) => sharp(Buffer.from(image.rgb), { raw: { width: image.width, height: image.height, channels: 3 } });

/** Mean and largest absolute difference per byte. */
function diff(a: RgbImage, b: RgbImage): { mean: number; max: number } {
  assert.equal(a.width, b.width);
  assert.equal(a.height, b.height);
  let sum = 0, max = 0;
  for (let i = 0; i < a.rgb.length; i++) {
    const d = Math.abs(a.rgb[i]! - b.rgb[i]!);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / a.rgb.length, max };
}

function pixel(image: RgbImage, x: number, y: number): number[] {
  const p = (y * image.width + x) * 3;
  return [...image.rgb.subarray(p, p + 3)];
}

/** The message is one line and names the file: what the CLI prints. */
function oneLineError(file: string, reason: RegExp) {
  return (err: Error): boolean => {
    assert.ok(err instanceof DataInputError, `${err.name}: ${err.message}`);
    assert.ok(!err.message.includes('\n'), err.message);
    assert.ok(err.message.startsWith(`${file}: `), err.message);
    assert.match(err.message, reason);
    return true;
  };
}

const scene = renderScene(sceneAt(7, 3), 64);

test('every format reads back at 64x64: exact for PNG, lossless WebP, GIF (few colours) and LZW TIFF; close for JPEG and AVIF', withDir(async (dir) => {
  const formats: [string, (s: Sharp) => Sharp, number][] = [
    // [file, encoder, largest mean absolute error per byte allowed]
    ['scene.png', (s) => s.png(), 0],
    ['scene.webp', (s) => s.webp({ lossless: true }), 0],
    ['scene.gif', (s) => s.gif(), 0],
    ['scene.tif', (s) => s.tiff({ compression: 'lzw' }), 0],
    ['scene.jpg', (s) => s.jpeg({ quality: 95 }), 4],
    ['scene.avif', (s) => s.avif({ quality: 90 }), 2],
  ];
  for (const [name, encode, tolerance] of formats) {
    await encode(raw(scene)).toFile(join(dir, name));
    const back = await readImage(join(dir, name), { size: 64 });
    const d = diff(back, scene);
    if (tolerance === 0) assert.deepEqual(back.rgb, scene.rgb, name);
    else assert.ok(d.mean <= tolerance, `${name}: mean error ${d.mean.toFixed(2)} > ${tolerance}`);
  }
}));

test('an animated GIF reads as its first frame', async () => {
  const frame = (c: number[]) => Buffer.from(Array.from({ length: 16 }, () => c).flat());
  // Two 4x4 frames, red then blue, stacked as pages.
  const gif = await sharp(Buffer.concat([frame([255, 0, 0]), frame([0, 0, 255])]), { raw: { width: 4, height: 8, channels: 3, pageHeight: 4 } }).gif({ loop: 0 }).toBuffer();
  assert.equal((await sharp(gif, { pages: -1 }).metadata()).pages, 2);
  const first = await readImage(gif, { name: 'anim.gif' });
  assert.deepEqual([first.width, first.height], [4, 4]);
  assert.deepEqual(first.rgb, new Uint8Array(frame([255, 0, 0])));
});

test('an image already size x size comes back byte-identical; without size the own size is kept', withDir(async (dir) => {
  const noisy = createImage(64, 64);
  for (let i = 0; i < noisy.rgb.length; i++) noisy.rgb[i] = (i * 7919) % 256;
  writeFileSync(join(dir, 'a.png'), encodePng(noisy));
  assert.deepEqual((await readImage(join(dir, 'a.png'), { size: 64 })).rgb, noisy.rgb);
  const wide = renderScene(sceneAt(7, 3), 128);
  writeFileSync(join(dir, 'b.png'), encodePng(wide));
  const own = await readImage(join(dir, 'b.png'));
  assert.equal(own.width, 128);
  assert.deepEqual(own.rgb, wide.rgb);
}));

test('alpha is composited over white; grey 16-bit becomes 8-bit RGB; EXIF orientation is applied', withDir(async (dir) => {
  await sharp(Buffer.from([0, 0, 0, 128, 200, 100, 50, 128, 10, 20, 30, 0]), { raw: { width: 3, height: 1, channels: 4 } }).png().toFile(join(dir, 'rgba.png'));
  // c * a + 255 * (1 - a) with a = 128 / 255, rounded.
  const over = (c: number) => Math.round(c * (128 / 255) + 255 * (1 - 128 / 255));
  assert.deepEqual([...(await readImage(join(dir, 'rgba.png'))).rgb], [over(0), over(0), over(0), over(200), over(100), over(50), 255, 255, 255]);
  await sharp(Buffer.from([128, 64]), { raw: { width: 2, height: 1, channels: 1 } }).toColourspace('grey16').png().toFile(join(dir, 'grey16.png'));
  assert.deepEqual([...(await readImage(join(dir, 'grey16.png'))).rgb], [128, 128, 128, 64, 64, 64]);
  // 2 wide, 1 high, tagged "rotate 90 clockwise" (orientation 6): read as 1 wide, 2 high.
  await sharp(Buffer.from([255, 0, 0, 0, 0, 255]), { raw: { width: 2, height: 1, channels: 3 } })
    .withMetadata({ orientation: 6 }).png().toFile(join(dir, 'rotated.png'));
  const r = await readImage(join(dir, 'rotated.png'));
  assert.deepEqual([r.width, r.height], [1, 2]);
  assert.deepEqual([...r.rgb], [255, 0, 0, 0, 0, 255]);
}));

test('a 4000x3000 JPEG read at 64 is the centre crop; pad mode letterboxes on white', withDir(async (dir) => {
  // Grey photo, a red disc in the centre, blue in the left and right margins that a centre square
  // crop (x 500..3500) cuts off.
  const w = 4000, h = 3000;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="${w}" height="${h}" fill="#808080"/>`
    + `<rect x="0" y="0" width="400" height="${h}" fill="#0000ff"/><rect x="3600" y="0" width="400" height="${h}" fill="#0000ff"/>`
    + `<circle cx="2000" cy="1500" r="600" fill="#ff0000"/></svg>`;
  const file = join(dir, 'photo.jpg');
  await sharp(Buffer.from(svg)).jpeg({ quality: 90 }).toFile(file);
  const crop = await readImage(file, { size: 64 });
  assert.deepEqual([crop.width, crop.height], [64, 64]);
  const [r, g, b] = pixel(crop, 32, 32);
  assert.ok(r! > 230 && g! < 30 && b! < 30, `centre is red: ${[r, g, b]}`);
  for (let y = 0; y < 64; y++) for (const x of [0, 63]) {
    const [, , blue] = pixel(crop, x, y);
    assert.ok(blue! < 160, `no blue margin in the crop at (${x}, ${y})`);
  }
  const pad = await readImage(file, { size: 64, fit: 'pad' });
  assert.deepEqual([pad.width, pad.height], [64, 64]);
  // 4:3 in a square: 48 rows of picture, 8 white rows above and below.
  assert.deepEqual(pixel(pad, 32, 0), [255, 255, 255]);
  assert.deepEqual(pixel(pad, 32, 63), [255, 255, 255]);
  const [, , edgeBlue] = pixel(pad, 1, 32);
  assert.ok(edgeBlue! > 200, 'the margins are kept when padding');
}));

test('unreadable input: truncated, empty, text, missing, folder, zero-sized, over the pixel limit', withDir(async (dir) => {
  const jpeg = await raw(scene).jpeg().toBuffer();
  writeFileSync(join(dir, 'cut.jpg'), jpeg.subarray(0, jpeg.length >> 1));
  await assert.rejects(readImage(join(dir, 'cut.jpg')), oneLineError(join(dir, 'cut.jpg'), /truncated or corrupt/));
  const png = encodePng(scene);
  writeFileSync(join(dir, 'cut.png'), png.subarray(0, png.length >> 1));
  await assert.rejects(readImage(join(dir, 'cut.png')), oneLineError(join(dir, 'cut.png'), /truncated or corrupt/));
  writeFileSync(join(dir, 'empty.png'), '');
  await assert.rejects(readImage(join(dir, 'empty.png')), oneLineError(join(dir, 'empty.png'), /empty \(0 bytes\)/));
  writeFileSync(join(dir, 'notes.png'), 'these are words, not pixels\n');
  await assert.rejects(readImage(join(dir, 'notes.png')), oneLineError(join(dir, 'notes.png'), /not an image in a supported format/));
  await assert.rejects(readImage(join(dir, 'none.png')), oneLineError(join(dir, 'none.png'), /no such file/));
  await assert.rejects(readImage(dir), oneLineError(dir, /is a folder/));
  const zero = Buffer.from(png);
  zero.writeUInt32BE(0, 16);
  await assert.rejects(readImage(zero, { name: 'zero.png' }), oneLineError('zero.png', /zero-sized|no pixels/));
  await assert.rejects(readImage(png, { name: 'scene.png', maxPixels: 1000 }), oneLineError('scene.png', /64x64 is 4096 pixels, over the limit of 1000 pixels/));
  // The limit is checked from the header: a PNG claiming 20000x20000 is refused before decoding.
  const huge = Buffer.from(png);
  huge.writeUInt32BE(20000, 16);
  huge.writeUInt32BE(20000, 20);
  await assert.rejects(readImage(huge, { name: 'huge.png' }), oneLineError('huge.png', /20000x20000 is 400.0 megapixels, over the limit of 100.0 megapixels/));
}));

test('writeImage: .png and .webp round-trip exactly, .jpg closely; .bmp and no extension refused; no temp file left', withDir(async (dir) => {
  for (const name of ['out.png', 'out.webp', 'out.jpg', 'out.jpeg']) {
    await writeImage(join(dir, name), scene);
    const back = await readImage(join(dir, name));
    if (name.endsWith('.png') || name.endsWith('.webp')) assert.deepEqual(back.rgb, scene.rgb, name);
    else assert.ok(diff(back, scene).mean < 4, name);
  }
  await writeImage(join(dir, 'out.png'), createImage(2, 2, [1, 2, 3]));
  assert.deepEqual([...(await readImage(join(dir, 'out.png'))).rgb.subarray(0, 3)], [1, 2, 3], 'an existing file is replaced');
  await assert.rejects(writeImage(join(dir, 'out.bmp'), scene), (err: Error) => err instanceof DataInputError && /cannot write '\.bmp'; use \.png/.test(err.message));
  await assert.rejects(writeImage(join(dir, 'out'), scene), /without an extension/);
  await assert.rejects(writeImage(join(dir, 'missing', 'out.png'), scene), /cannot write/);
  assert.deepEqual(readdirSync(dir).sort(), ['out.jpeg', 'out.jpg', 'out.png', 'out.webp']);
}));

test('CLI: data parse reads a WebP like the PNG; index build --images takes .jpg and .png and warns about other files; index query picture.gif is an image query', withDir(async (dir) => {
  const big = renderScene(sceneAt(7, 3), 128);
  writeFileSync(join(dir, 'scene.png'), encodePng(big));
  await raw(big).webp({ lossless: true }).toFile(join(dir, 'scene.webp'));
  const fromPng = cli('data', 'parse', join(dir, 'scene.png'), '--json');
  const fromWebp = cli('data', 'parse', join(dir, 'scene.webp'), '--json');
  assert.equal(fromPng.code, 0, fromPng.stderr);
  assert.equal(fromWebp.code, 0, fromWebp.stderr);
  assert.ok(JSON.parse(fromPng.stdout).objects.length > 0);
  assert.equal(fromWebp.stdout, fromPng.stdout);
  const bad = cli('data', 'parse', join(dir, 'scene.png.txt'));
  assert.equal(bad.code, 2);

  const pics = join(dir, 'pics');
  mkdirSync(pics);
  await raw(renderScene(sceneAt(1, 1), 64)).jpeg({ quality: 95 }).toFile(join(pics, 'one.jpg'));
  writeFileSync(join(pics, 'two.png'), encodePng(renderScene(sceneAt(1, 2), 64)));
  writeFileSync(join(pics, 'two.txt'), 'the second scene\n');
  writeFileSync(join(pics, 'notes.md'), '# not a picture\n');
  const bank = join(dir, 'bank');
  const b = cli('index', 'build', '--images', pics, '-o', bank, '--no-tokens');
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /memory bank .*: 2 documents/);
  assert.match(b.stderr, /warning: .*notes\.md is not an image/);
  await raw(renderScene(sceneAt(1, 1), 96)).gif().toFile(join(dir, 'picture.gif'));
  const q = cli('index', 'query', join(dir, 'picture.gif'), '--bank', bank, '--k', '2');
  assert.equal(q.code, 0, q.stderr);
  const lines = q.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.ok(lines.some((l) => /one\.jpg {2}\[image one\.jpg\]/.test(l)), q.stdout);
  assert.ok(lines.some((l) => /two\.png {2}\[both two\.png\] {2}the second scene$/.test(l)), q.stdout);
  // An image query, not the path searched as text: the same hits as --image, led by the same scene.
  assert.equal(cli('index', 'query', '--image', join(dir, 'picture.gif'), '--bank', bank, '--k', '2').stdout, q.stdout);
  assert.notEqual(cli('index', 'query', 'picture gif', '--bank', bank, '--k', '2').stdout, q.stdout);
  assert.match(lines[0]!, /one\.jpg/);
}));
