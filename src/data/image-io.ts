/**
 * The one reader and the one writer for users' image files, on sharp (libvips).
 *
 * readImage takes any format sharp decodes (PNG, JPEG, WebP, GIF (first frame), AVIF, TIFF) and
 * returns 8-bit sRGB RGB bytes: EXIF orientation applied, alpha composited over white, grey,
 * palette, CMYK and 16-bit images converted.
 *
 * Resize policy (with `size`):
 *   - an image already exactly size x size is returned as decoded, never resampled, so a PNG the
 *     datasets wrote reads back byte-identical;
 *   - otherwise `fit: 'crop'` (default) takes the centred square and resizes it, `fit: 'pad'` fits
 *     the whole image inside the square and fills the bars with white; shrinking and enlarging use
 *     the Lanczos-3 kernel.
 * Without `size` the decoded image keeps its own width and height.
 *
 * Limits: images above `maxPixels` (default 100 megapixels) are refused from their header, before
 * any pixel is decoded; truncated files are refused rather than returned half grey.
 * Every failure is a DataInputError whose message is one line naming the file and the reason.
 *
 * writeImage encodes by extension: .png, .jpg/.jpeg (quality 95) and .webp (lossless); a path
 * without one of these is refused before encoding, since guessing a format silently would write
 * bytes the name does not describe. The file is written beside its target and renamed into place.
 *
 * Not here: the dataset store's own PNG thumbnails, which are bytes this project wrote and keep
 * using encodePng/decodePng (image.ts); no colour management beyond conversion to sRGB; no
 * animation (only the first frame of a GIF or animated WebP is read).
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { Sharp, SharpOptions } from 'sharp';
import { DataInputError } from './errors.js';
import type { RgbImage } from './image.js';

type SharpFactory = (input: Buffer | Uint8Array, options?: SharpOptions) => Sharp;
let sharpFactory: SharpFactory | undefined;

/**
 * sharp, loaded on first use: the data module is imported by every command, most of which never
 * touch a user's image, and a platform without a prebuilt libvips then fails only where one is read.
 */
async function loadSharp(): Promise<SharpFactory> {
  if (!sharpFactory) {
    try {
      sharpFactory = (await import('sharp')).default as SharpFactory;
    } catch (err) {
      throw new DataInputError(`cannot load sharp (libvips), needed to read and write images: ${oneLine((err as Error).message)}`);
    }
  }
  return sharpFactory;
}

export interface ReadImageOptions {
  /** Resize to size x size (see the header for the policy). */
  size?: number;
  /** How a non-square image becomes square: 'crop' the centre (default) or 'pad' with white. */
  fit?: 'crop' | 'pad';
  /** Largest width * height accepted (default 100 megapixels). */
  maxPixels?: number;
  /** What to call a byte source in error messages (default 'image'). */
  name?: string;
}

export const DEFAULT_MAX_PIXELS = 100_000_000;

/** The file extensions readImage takes, lower case with the dot (what folder scans look for). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp', '.gif', '.avif', '.tif', '.tiff'];

/** Whether a file name has one of the IMAGE_EXTENSIONS. */
export function isImageFileName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(extname(name).toLowerCase());
}

const WRITE_FORMATS = ['.png', '.jpg', '.jpeg', '.webp'] as const;

/** Whether writeImage can write a file of this name (its extension picks the format). */
export function isWritableImageName(name: string): boolean {
  return (WRITE_FORMATS as readonly string[]).includes(extname(name).toLowerCase());
}

/** libvips messages run over several lines ("VipsJpeg: ...\nVipsJpeg: ..."): one line for the CLI. */
function oneLine(message: string): string {
  return message.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0).join('; ');
}

function pixels(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)} megapixels` : `${n} pixels`;
}

/** A libvips error turned into the reason a user can act on. */
function reasonFor(err: unknown): string {
  const raw = oneLine(err instanceof Error ? err.message : String(err));
  if (/unsupported image format/i.test(raw)) return 'not an image in a supported format (PNG, JPEG, WebP, GIF, AVIF, TIFF)';
  if (/pixel limit/i.test(raw)) return 'the image is over the pixel limit';
  if (/corrupt header/i.test(raw)) return 'corrupt header (a damaged or zero-sized image)';
  if (/premature end|truncat|unexpected end|read error|out of order/i.test(raw)) return `truncated or corrupt (${raw})`;
  return `not a readable image (${raw})`;
}

/** A file path or encoded bytes -> 8-bit RGB (see the header for the formats, resize policy and limits). */
export async function readImage(source: string | Uint8Array, o: ReadImageOptions = {}): Promise<RgbImage> {
  const name = typeof source === 'string' ? source : (o.name ?? 'image');
  const fail = (reason: string): never => {
    throw new DataInputError(`${name}: ${reason}`);
  };
  const maxPixels = o.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!(maxPixels >= 1)) fail(`maxPixels must be at least 1, got ${maxPixels}`);
  const size = o.size;
  if (size !== undefined && (!Number.isInteger(size) || size < 1)) fail(`size must be a positive whole number, got ${size}`);
  if (o.fit !== undefined && o.fit !== 'crop' && o.fit !== 'pad') fail(`fit must be 'crop' or 'pad', got '${String(o.fit)}'`);

  let bytes: Uint8Array;
  if (typeof source === 'string') {
    // Read here rather than handing sharp the path: a missing file or a folder gets its own message.
    try {
      bytes = await readFile(source);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return fail(code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not an image file' : `cannot read (${oneLine((err as Error).message)})`);
    }
  } else {
    bytes = source;
  }
  if (bytes.length === 0) fail('the file is empty (0 bytes)');

  // failOn 'truncated' refuses a cut-off file instead of padding it with grey, but still takes files
  // with harmless warnings (extra bytes after the end, odd metadata) that 'warning' would refuse.
  // limitInputPixels on decoding backs up the header check below.
  const sharp = await loadSharp();
  const open = (limit: number | false) => sharp(bytes, { failOn: 'truncated', limitInputPixels: limit, pages: 1, page: 0 });

  let width: number, height: number;
  try {
    // The header alone, without sharp's pixel limit, so that an oversized image is refused below
    // with its size in the message.
    const meta = await open(false).metadata();
    width = meta.autoOrient?.width ?? meta.width ?? 0;
    height = meta.autoOrient?.height ?? meta.height ?? 0;
  } catch (err) {
    return fail(reasonFor(err));
  }
  if (width < 1 || height < 1) fail(`the image has no pixels (${width}x${height})`);
  if (width * height > maxPixels) {
    fail(`${width}x${height} is ${pixels(width * height)}, over the limit of ${pixels(maxPixels)}`);
  }

  try {
    let pipeline = open(Math.max(1, Math.floor(maxPixels))).autoOrient().flatten({ background: '#ffffff' }).toColourspace('srgb');
    // Exactly size x size: no resize step at all, so no kernel touches the pixels.
    if (size !== undefined && (width !== size || height !== size)) {
      pipeline = pipeline.resize(size, size, {
        fit: o.fit === 'pad' ? 'contain' : 'cover',
        position: 'centre',
        background: '#ffffff',
        kernel: 'lanczos3',
      });
    }
    const { data, info } = await pipeline.removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      fail(`decoded to ${info.channels} channels, expected RGB`);
    }
    return { width: info.width, height: info.height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (err) {
    if (err instanceof DataInputError) throw err;
    return fail(reasonFor(err));
  }
}

/** RGB -> a .png, .jpg/.jpeg (quality 95) or lossless .webp file, by the path's extension, atomically. */
export async function writeImage(path: string, image: RgbImage): Promise<void> {
  const ext = extname(path).toLowerCase();
  if (!isWritableImageName(path)) {
    throw new DataInputError(`${path}: cannot write ${ext ? `'${ext}'` : 'a file without an extension'}; use .png, .jpg, .jpeg or .webp`);
  }
  const { width, height, rgb } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || rgb.length !== width * height * 3) {
    throw new DataInputError(`${path}: not an RGB image (${width}x${height}, ${rgb.length} bytes)`);
  }
  const sharp = await loadSharp();
  const raw = sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } });
  const encoded = await (ext === '.png' ? raw.png() : ext === '.webp' ? raw.webp({ lossless: true }) : raw.jpeg({ quality: 95 })).toBuffer();
  // Same folder as the target, so the rename is atomic: a reader sees the old file or the new one.
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, encoded);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new DataInputError(`${path}: cannot write (${oneLine((err as Error).message)})`);
  }
}
