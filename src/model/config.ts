/**
 * Decoder configurations: the typed config, named presets (from a test-sized `tiny` to the paper's
 * 7B shape), validation, and conversion to and from a Hugging Face OPT `config.json`, so our
 * checkpoints load as `OPTForCausalLM` (enable_bias false, no LayerNorm parameters, GELU, tied
 * embeddings, no dropout).
 */

export interface DecoderConfig {
  vocabSize: number;
  /** Model width C. */
  dim: number;
  heads: number;
  layers: number;
  /** Longest sequence (rows of the position table). */
  maxPositions: number;
  /** Init std of weights (paper: 0.006, truncated at 3 sigma). */
  initStd?: number;
  /** Init std of the position table (paper: 0.0002). */
  positionStd?: number;
  /** Zero-initialise output projections (out_proj, fc2), as the paper does. */
  zeroOutputLayers?: boolean;
  eps?: number;
  seed?: number;
}

export type PresetName = 'tiny' | 'small' | 'base' | '350m' | '760m' | '7b';

/** Architecture presets; the vocabulary size comes from the tokenizers. */
export const presets: Record<PresetName, Omit<DecoderConfig, 'vocabSize'>> = {
  /** For tests: runs in milliseconds. */
  tiny: { dim: 64, heads: 2, layers: 2, maxPositions: 512 },
  /** Trains on a 2-core CPU in about an hour. */
  small: { dim: 256, heads: 4, layers: 4, maxPositions: 1024 },
  /** For one GPU. */
  base: { dim: 512, heads: 8, layers: 8, maxPositions: 2048 },
  /** The paper's shapes. */
  '350m': { dim: 1024, heads: 16, layers: 24, maxPositions: 4096 },
  '760m': { dim: 1536, heads: 16, layers: 24, maxPositions: 4096 },
  '7b': { dim: 4096, heads: 32, layers: 32, maxPositions: 4096 },
};

export function presetConfig(name: string, vocabSize: number, overrides: Partial<DecoderConfig> = {}): DecoderConfig {
  if (!(name in presets)) throw new Error(`unknown preset '${name}' (available: ${Object.keys(presets).join(', ')})`);
  return validateConfig({ ...presets[name as PresetName], vocabSize, ...overrides });
}

const intKeys = ['vocabSize', 'dim', 'heads', 'layers', 'maxPositions'] as const;

/** Checks a config, naming the first bad field. */
export function validateConfig(c: DecoderConfig): DecoderConfig {
  for (const k of intKeys) {
    const v = c[k];
    if (!Number.isInteger(v) || v < 1) throw new Error(`config: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  if (c.dim % c.heads !== 0) throw new Error(`config: dim ${c.dim} is not divisible by heads ${c.heads}`);
  for (const k of ['initStd', 'positionStd', 'eps'] as const) {
    const v = c[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new Error(`config: ${k} must be a non-negative number, got ${JSON.stringify(v)}`);
  }
  return c;
}

/** A config from a plain object (e.g. parsed JSON), dropping unknown keys. */
export function configFromDict(d: Record<string, unknown>): DecoderConfig {
  const keys = [...intKeys, 'initStd', 'positionStd', 'zeroOutputLayers', 'eps', 'seed'] as const;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (d[k] !== undefined) out[k] = d[k];
  return validateConfig(out as unknown as DecoderConfig);
}

/** Hugging Face OPT config.json for this decoder. */
export function toHfConfig(c: DecoderConfig, special: { bos?: number; eos?: number; pad?: number } = {}): Record<string, unknown> {
  return {
    architectures: ['OPTForCausalLM'],
    model_type: 'opt',
    vocab_size: c.vocabSize,
    hidden_size: c.dim,
    word_embed_proj_dim: c.dim,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    ffn_dim: 4 * c.dim,
    max_position_embeddings: c.maxPositions,
    do_layer_norm_before: true,
    enable_bias: false,
    layer_norm_elementwise_affine: false,
    activation_function: 'gelu',
    dropout: 0.0,
    attention_dropout: 0.0,
    activation_dropout: 0.0,
    layerdrop: 0.0,
    init_std: c.initStd ?? 0.006,
    tie_word_embeddings: true,
    use_cache: true,
    torch_dtype: 'float32',
    bos_token_id: special.bos ?? special.eos ?? 1,
    eos_token_id: special.eos ?? 1,
    pad_token_id: special.pad ?? 0,
    cm3leon: { positionStd: c.positionStd, eps: c.eps ?? 1e-5 },
  };
}

/** Reads a Hugging Face OPT config.json, refusing features this decoder does not have. */
export function fromHfConfig(h: Record<string, unknown>): DecoderConfig {
  const need = (k: string): number => {
    const v = h[k];
    if (typeof v !== 'number') throw new Error(`config.json: missing or non-numeric '${k}'`);
    return v;
  };
  if (h.model_type !== undefined && h.model_type !== 'opt') throw new Error(`config.json: model_type '${String(h.model_type)}' is not 'opt'`);
  if (h.enable_bias === true) throw new Error('config.json: enable_bias true is not supported (CM3leon has no bias terms)');
  if (h.layer_norm_elementwise_affine === true) throw new Error('config.json: LayerNorm parameters are not supported (CM3leon has none)');
  if (h.do_layer_norm_before === false) throw new Error('config.json: post-LayerNorm models are not supported');
  if (h.activation_function !== undefined && h.activation_function !== 'gelu') throw new Error(`config.json: activation '${String(h.activation_function)}' is not supported (gelu)`);
  const dim = need('hidden_size');
  if (h.word_embed_proj_dim !== undefined && h.word_embed_proj_dim !== dim) throw new Error('config.json: word_embed_proj_dim != hidden_size is not supported');
  if (h.ffn_dim !== undefined && h.ffn_dim !== 4 * dim) throw new Error(`config.json: ffn_dim ${String(h.ffn_dim)} is not 4 * hidden_size`);
  const extra = (h.cm3leon ?? {}) as { positionStd?: number; eps?: number };
  return validateConfig({
    vocabSize: need('vocab_size'), dim, heads: need('num_attention_heads'), layers: need('num_hidden_layers'),
    maxPositions: need('max_position_embeddings'), initStd: typeof h.init_std === 'number' ? h.init_std : undefined,
    positionStd: extra.positionStd, eps: extra.eps,
  });
}
