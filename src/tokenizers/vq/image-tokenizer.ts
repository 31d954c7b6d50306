/**
 * `ImageTokenizer`: the VQ image tokenizer as one module (encoder -> codebook -> decoder) with the
 * user-facing operations: `encode(images) -> Int32Array grids` (row-major, grid*grid codes,
 * deterministic), `decode(grids) -> images`, and save/load as `config.json` + `model.safetensors`.
 * Images of another size are resized to the tokenizer's size; bad grids (wrong length, codes outside
 * the codebook) are refused with a TokenizerError naming the grid, the index and the value.
 *
 * Files: model.safetensors carries the config in its metadata too, so a config.json that belongs to
 * another save is detected. Each file is written atomically (temp file + rename).
 */
import '../../backends/cpu/index.js'; // registers the CPU backends, so the tokenizer works without the package entry
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RgbImage } from '../../data/image.js';
import { Module, assignData, loadSafetensors, saveSafetensors, weightsHash, writeFileAtomic, type TensorEntry } from '../../nn/index.js';
import { noGrad, tensor, tidy, Rng, type Tensor } from '../../tensor/index.js';
import { TokenizerError } from '../errors.js';
import { Decoder, Encoder } from './autoencoder.js';
import { gridSize, validateVqConfig, vqConfigFromDict, type VqConfig } from './config.js';
import { checkRgb, floatsToImages, imagesToFloats, resizeRgb } from './images.js';
import { Quantizer, type QuantizeResult } from './quantizer.js';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
const FORMAT = 'cm3leon-image-tokenizer';
const FORMAT_VERSION = 1;

export interface ForwardResult {
  /** Reconstruction, (B, 3, S, S), unclamped. */
  recon: Tensor;
  quant: QuantizeResult;
}

export class ImageTokenizer extends Module {
  readonly encoder: Encoder;
  readonly quantizer: Quantizer;
  readonly decoder: Decoder;

  constructor(readonly config: VqConfig, seed = 0) {
    super();
    validateVqConfig(config);
    const rng = new Rng(seed);
    this.encoder = new Encoder(config, rng);
    this.quantizer = new Quantizer(config.codebookSize, config.codeDim, rng);
    this.decoder = new Decoder(config, rng);
  }

  /** Side of the code grid (imageSize / factor). */
  get grid(): number {
    return gridSize(this.config);
  }

  get imageSize(): number {
    return this.config.imageSize;
  }

  /**
   * What the codes mean, as a fingerprint: "vq@" + 12 hex digits of a sha256 over the config that
   * shapes encoding (size, factor, codebook, encoder widths) and the encoder's and codebook's
   * weights. Training the decoder alone keeps it (every image keeps its codes); training the encoder
   * or the codebook changes it. A model trained on codes, and a bank storing them, record it, so
   * codes from another tokenizer are refused rather than read as nonsense.
   */
  get codesVersion(): string {
    const { imageSize, factor, codebookSize, codeDim, channels, resBlocks, groups } = this.config;
    const header = JSON.stringify({ imageSize, factor, codebookSize, codeDim, channels, resBlocks, groups });
    return `vq@${weightsHash(header, [...this.encoder.namedParameters('encoder'), ...this.quantizer.namedParameters('quantizer')])}`;
  }

  /** Training forward pass: x (B, 3, S, S) in [-1, 1] -> reconstruction and quantiser outputs. */
  forward(x: Tensor): ForwardResult {
    const quant = this.quantizer.forward(this.encoder.forward(x));
    return { recon: this.decoder.forward(quant.zq), quant };
  }

  /** Codes of x (B, 3, S, S): B*g*g ids, row-major per image. */
  encodeTensor(x: Tensor): Int32Array {
    return tidy(() => noGrad(() => this.quantizer.nearest(this.encoder.forward(x)).ids));
  }

  /** Pixels (B, 3, S, S) of B*g*g ids. */
  decodeTensor(ids: Int32Array, batch: number): Tensor {
    const g = this.grid;
    return noGrad(() => this.decoder.forward(this.quantizer.lookup(ids, batch, g, g)));
  }

  /** RGB images (any size; resized to imageSize) -> one Int32Array of grid*grid codes each. */
  encode(images: readonly RgbImage[], batchSize = 32): Int32Array[] {
    const s = this.imageSize;
    const g2 = this.grid * this.grid;
    const out: Int32Array[] = [];
    for (let i = 0; i < images.length; i += batchSize) {
      const chunk = images.slice(i, i + batchSize).map((im, j) => {
        checkRgb(im, `image ${i + j}`);
        return resizeRgb(im, s).rgb;
      });
      const ids = tidy(() => this.encodeTensor(tensor(imagesToFloats(chunk, s), [chunk.length, 3, s, s])));
      for (let b = 0; b < chunk.length; b++) out.push(ids.slice(b * g2, (b + 1) * g2));
    }
    return out;
  }

  /** Checks one grid: length grid*grid, integer codes in [0, K). */
  checkGrid(grid: ArrayLike<number>, index = 0): void {
    const g = this.grid;
    const k = this.config.codebookSize;
    if (grid.length !== g * g) {
      const side = Math.sqrt(grid.length);
      const shape = Number.isInteger(side) ? ` (a ${side}x${side} grid)` : '';
      throw new TokenizerError(`grid ${index} has ${grid.length} codes${shape}, this tokenizer needs ${g * g} (a ${g}x${g} grid)`);
    }
    for (let i = 0; i < grid.length; i++) {
      const v = grid[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= k) {
        throw new TokenizerError(`grid ${index}: code ${v} at index ${i} (row ${Math.floor(i / g)}, column ${i % g}) is outside the codebook 0..${k - 1}`);
      }
    }
  }

  /** Code grids -> RGB images of imageSize. */
  decode(grids: readonly ArrayLike<number>[], batchSize = 32): RgbImage[] {
    grids.forEach((g, i) => this.checkGrid(g, i));
    const s = this.imageSize;
    const g2 = this.grid * this.grid;
    const out: RgbImage[] = [];
    for (let i = 0; i < grids.length; i += batchSize) {
      const chunk = grids.slice(i, i + batchSize);
      const ids = new Int32Array(chunk.length * g2);
      chunk.forEach((g, b) => ids.set(Array.from(g), b * g2));
      const pixels = tidy(() => this.decodeTensor(ids, chunk.length).dataSync() as Float32Array);
      out.push(...floatsToImages(pixels, chunk.length, s));
    }
    return out;
  }

  /** Encode then decode. */
  roundTrip(images: readonly RgbImage[]): { grids: Int32Array[]; images: RgbImage[] } {
    const grids = this.encode(images);
    return { grids, images: this.decode(grids) };
  }

  /**
   * A copy of this tokenizer whose decoder has `blocks[i]` residual blocks at level i (full
   * resolution first), at least as many as now. The existing blocks keep their weights and come
   * first at each level; each new block starts as the identity (its last conv is zero), so the copy
   * decodes exactly like this one until it is trained. Encoder and codebook are copied: codes do
   * not change.
   */
  withDecoderBlocks(blocks: readonly number[], seed = 0): ImageTokenizer {
    const now = this.config.decoderResBlocks ?? this.config.resBlocks;
    if (blocks.length !== now.length || blocks.some((b, i) => !Number.isInteger(b) || b < now[i]!)) {
      throw new TokenizerError(`decoder blocks ${JSON.stringify(blocks)}: need ${now.length} whole numbers, each at least the current ${JSON.stringify(now)}`);
    }
    const grown = new ImageTokenizer({ ...this.config, decoderResBlocks: [...blocks] }, seed);
    const old = this.namedParameters();
    // Level j of the decoder holds resolution level (last - j): the finest level is the last one.
    const last = now.length - 1;
    grown.decoder.levels.forEach((level, j) => {
      level.blocks.slice(now[last - j]!).forEach((b) => {
        assignData(b.conv2.weight, new Float32Array(b.conv2.weight.size));
        assignData(b.conv2.bias, new Float32Array(b.conv2.bias.size));
      });
    });
    const state = new Map<string, { shape: readonly number[]; data: Float32Array }>();
    for (const [name, p] of grown.namedParameters()) {
      const src = old.get(name);
      if (src && src.shape.join() !== p.shape.join()) throw new Error(`withDecoderBlocks: ${name} changed shape`);
      state.set(name, { shape: p.shape, data: (src ?? p).dataSync() as Float32Array });
    }
    for (const name of old.keys()) if (!state.has(name)) throw new Error(`withDecoderBlocks: ${name} has no place in the grown decoder`);
    grown.loadStateDict(state);
    return grown;
  }

  /** Writes config.json and model.safetensors into dir (created if needed). */
  save(dir: string, info: Record<string, unknown> = {}): void {
    mkdirSync(dir, { recursive: true });
    const configJson = JSON.stringify({ format: FORMAT, version: FORMAT_VERSION, ...this.config });
    const entries = new Map<string, TensorEntry>();
    for (const [name, p] of this.namedParameters()) entries.set(name, { shape: p.shape, data: p.dataSync() });
    saveSafetensors(join(dir, WEIGHTS_FILE), entries, { format: FORMAT, config: configJson });
    writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify({ format: FORMAT, version: FORMAT_VERSION, ...this.config, ...info }, null, 2)}\n`);
  }

  /** Loads a saved tokenizer; every mismatch (missing file, config, tensor names or shapes) is a TokenizerError. */
  static load(dir: string): ImageTokenizer {
    const configPath = join(dir, CONFIG_FILE);
    const weightsPath = join(dir, WEIGHTS_FILE);
    if (!existsSync(configPath)) throw new TokenizerError(`no image tokenizer at ${dir}: ${CONFIG_FILE} is missing`);
    if (!existsSync(weightsPath)) throw new TokenizerError(`image tokenizer ${dir}: ${WEIGHTS_FILE} is missing`);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(configPath, 'utf8'));
    } catch (e) {
      throw new TokenizerError(`image tokenizer ${configPath}: not valid JSON (${(e as Error).message})`);
    }
    const fmt = (raw as Record<string, unknown> | null)?.['format'];
    if (fmt !== FORMAT) throw new TokenizerError(`image tokenizer ${configPath}: format is ${JSON.stringify(fmt)}, expected "${FORMAT}"`);
    const config = vqConfigFromDict(raw);
    let file;
    try {
      file = loadSafetensors(weightsPath);
    } catch (e) {
      throw new TokenizerError(`image tokenizer ${dir}: ${(e as Error).message}`);
    }
    const saved = file.metadata['config'];
    if (saved !== undefined) {
      const a = JSON.stringify(vqConfigFromDict(JSON.parse(saved)));
      if (a !== JSON.stringify(config)) throw new TokenizerError(`image tokenizer ${dir}: ${CONFIG_FILE} does not match the config stored in ${WEIGHTS_FILE} (files from different saves?)`);
    }
    const tok = new ImageTokenizer(config);
    const params = tok.namedParameters();
    for (const [name, p] of params) {
      const t = file.tensors.get(name);
      if (!t) throw new TokenizerError(`image tokenizer ${weightsPath}: tensor '${name}' is missing (config and weights do not match)`);
      if (t.dtype !== 'F32') throw new TokenizerError(`image tokenizer ${weightsPath}: tensor '${name}' is ${t.dtype}, expected F32`);
      if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
        throw new TokenizerError(`image tokenizer ${weightsPath}: tensor '${name}' has shape [${t.shape.join(', ')}], the config needs [${p.shape.join(', ')}]`);
      }
    }
    const extra = [...file.tensors.keys()].filter((k) => !params.has(k));
    if (extra.length > 0) throw new TokenizerError(`image tokenizer ${weightsPath}: unexpected tensors ${extra.slice(0, 3).join(', ')} (config and weights do not match)`);
    tok.loadStateDict(new Map([...file.tensors].map(([k, v]) => [k, { shape: v.shape, data: v.data as Float32Array }])));
    for (const [name, p] of params) {
      const d = p.dataSync();
      for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i]!)) throw new TokenizerError(`image tokenizer ${weightsPath}: tensor '${name}' holds a non-finite value at ${i}`);
    }
    return tok;
  }
}
