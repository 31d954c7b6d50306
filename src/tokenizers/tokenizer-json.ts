/**
 * Hugging Face `tokenizer.json` for byte-level BPE: what we write is the layout Rust `tokenizers`
 * writes for a GPT-2-style tokenizer (model "BPE", ByteLevel pre-tokenizer and decoder, specials as
 * `added_tokens` and in the vocab), so `tokenizers`, `transformers` and `@huggingface/tokenizers`
 * load it and produce the same ids as we do.
 *
 * Reading accepts any byte-level BPE file of that shape (merges as "a b" strings or as pairs),
 * and refuses, by name, the features we do not implement (normalizers, prefix spaces, dropout,
 * unk/byte-fallback, word suffixes) rather than encoding differently. Deliberately not here: other
 * model types (WordPiece, Unigram), templates/post-processing, truncation and padding.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { BpeTokenizer } from './bpe.js';
import { TokenizerError } from './errors.js';

const BYTE_LEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };

/** The tokenizer as a `tokenizer.json` object (ready for JSON.stringify). */
export function toTokenizerJson(tok: BpeTokenizer): Record<string, unknown> {
  // Null prototype: a trained token may well be spelled "__proto__".
  const vocab: Record<string, number> = Object.create(null);
  tok.vocab.forEach((t, id) => (vocab[t] = id));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: tok.specials.map((s) => ({
      id: s.id,
      content: s.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { ...BYTE_LEVEL },
    post_processor: null,
    decoder: { ...BYTE_LEVEL },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: tok.merges.map(([a, b]) => [a, b]),
    },
  };
}

/** Builds a tokenizer from a parsed `tokenizer.json`; `source` names it in error messages. */
export function fromTokenizerJson(json: unknown, source = 'tokenizer.json'): BpeTokenizer {
  const fail = (msg: string): never => {
    throw new TokenizerError(`${source}: ${msg}`);
  };
  if (!isObject(json)) fail('not a JSON object');
  const root = json as Record<string, unknown>;
  const model = root['model'];
  if (!isObject(model)) return fail('has no "model" object');
  if (model['type'] !== undefined && model['type'] !== 'BPE') fail(`model type ${JSON.stringify(model['type'])} is not supported (only "BPE")`);
  if (root['normalizer'] != null) fail('normalizers are not supported (expected "normalizer": null)');
  checkByteLevel(root['pre_tokenizer'], 'pre_tokenizer', fail);
  checkByteLevel(root['decoder'], 'decoder', fail);
  const pp = root['post_processor'];
  if (pp != null && !(isObject(pp) && pp['type'] === 'ByteLevel')) fail('only a ByteLevel post_processor (or none) is supported');
  for (const key of ['dropout', 'unk_token', 'continuing_subword_prefix', 'end_of_word_suffix'] as const) {
    if (model[key] != null) fail(`model.${key} is not supported (expected null)`);
  }
  if (model['byte_fallback'] === true) fail('model.byte_fallback is not supported');
  if (model['ignore_merges'] === true) fail('model.ignore_merges is not supported');

  const vocabObj = model['vocab'];
  if (!isObject(vocabObj)) return fail('model.vocab is not an object');
  const vocab: string[] = [];
  const added = root['added_tokens'] ?? [];
  if (!Array.isArray(added)) return fail('added_tokens is not an array');
  const entries = Object.entries(vocabObj);
  // Ids must be dense, so none can exceed the token count; checked first to avoid huge sparse arrays.
  const maxId = entries.length + added.length;
  for (const [token, id] of entries) {
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= maxId) {
      fail(`model.vocab[${JSON.stringify(token)}] = ${String(id)} is not a valid id (ids must be dense, 0..${maxId - 1} at most)`);
    }
    vocab[id as number] = token;
  }
  const specials: Array<{ content: string; id: number }> = [];
  added.forEach((t, i) => {
    if (!isObject(t) || typeof t['content'] !== 'string' || !Number.isInteger(t['id'])) {
      fail(`added_tokens[${i}] needs a string "content" and an integer "id"`);
    }
    const { content, id } = t as { content: string; id: number };
    if (id < 0 || id >= maxId) fail(`added_tokens[${i}] (${JSON.stringify(content)}) has id ${id}, beyond the ${maxId} tokens`);
    if (t['special'] === false) fail(`added_tokens[${i}] (${JSON.stringify(content)}) is not special: only special added tokens are supported`);
    if (vocab[id] !== undefined && vocab[id] !== content) {
      fail(`added_tokens[${i}] (${JSON.stringify(content)}) has id ${id}, which the vocab gives to ${JSON.stringify(vocab[id])}`);
    }
    vocab[id] = content;
    specials.push({ content, id });
  });
  for (let id = 0; id < vocab.length; id++) if (vocab[id] === undefined) fail(`no token has id ${id} (ids must be dense)`);

  const mergesRaw = model['merges'];
  if (!Array.isArray(mergesRaw)) return fail('model.merges is not an array');
  const merges = mergesRaw.map((m, i): [string, string] => {
    if (typeof m === 'string') {
      const parts = m.split(' ');
      if (parts.length === 2) return [parts[0]!, parts[1]!];
    } else if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
      return [m[0], m[1]];
    }
    return fail(`model.merges[${i}] is neither "a b" nor ["a", "b"]`);
  });
  try {
    return new BpeTokenizer({ vocab, merges, specials });
  } catch (e) {
    if (e instanceof TokenizerError) fail(e.message);
    throw e;
  }
}

export function saveTokenizerJson(tok: BpeTokenizer, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(toTokenizerJson(tok), null, 2) + '\n');
}

export function loadTokenizerJson(path: string): BpeTokenizer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TokenizerError(`cannot read tokenizer ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TokenizerError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  return fromTokenizerJson(json, path);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkByteLevel(v: unknown, where: string, fail: (m: string) => never): void {
  if (!isObject(v) || v['type'] !== 'ByteLevel') fail(`${where} must be {"type": "ByteLevel"}`);
  const o = v as Record<string, unknown>;
  if (where === 'pre_tokenizer') {
    if (o['add_prefix_space'] === true) fail('pre_tokenizer.add_prefix_space = true is not supported');
    if (o['use_regex'] === false) fail('pre_tokenizer.use_regex = false is not supported');
  }
}
