/** `cm3leon tokenizer train-text | encode-text | decode-text` end to end, as a user runs them. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadTokenizerJson } from '../../src/tokenizers/tokenizer-json.js';
import { makeCorpus } from './helpers.js';

const main = join(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'cm3leon-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [main, 'tokenizer', ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('train-text, encode-text, decode-text', () => {
  const corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, makeCorpus(11, 100_000));
  const out = join(dir, 'models', 'tok', 'tokenizer.json');
  const train = cli('train-text', '--input', corpus, '--vocab-size', '600', '-o', out);
  assert.equal(train.code, 0, train.err);
  assert.match(train.out, /vocab 600 \(32 special, 256 bytes, 312 merges\)/);
  assert.ok(existsSync(out));

  const text = 'a red circle <break> 😀';
  const enc = cli('encode-text', text, '--tokenizer', out);
  assert.equal(enc.code, 0, enc.err);
  const ids = JSON.parse(enc.out) as number[];
  assert.deepEqual(ids, loadTokenizerJson(out).encode(text));
  assert.ok(!ids.includes(2), '<break> in text is not the special without --allow-special');
  const special = JSON.parse(cli('encode-text', text, '--tokenizer', out, '--allow-special').out) as number[];
  assert.ok(special.includes(2));

  const dec = cli('decode-text', ...ids.map(String), '--tokenizer', out);
  assert.equal(dec.code, 0, dec.err);
  assert.equal(dec.out, text + '\n');
  assert.equal(cli('decode-text', JSON.stringify(special), '--tokenizer', out, '--skip-special').out, 'a red circle  😀\n');
});

test('user errors exit 2 with one clear line', () => {
  const missing = cli('encode-text', 'x', '--tokenizer', join(dir, 'none.json'));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /cm3leon: tokenizer encode-text: cannot read tokenizer .*none.json/);
  assert.match(cli('train-text').err, /train-text needs --input FILE/);
  assert.match(cli('train-text', '--input', join(dir, 'nope.txt')).err, /cannot read --input/);
  assert.match(cli('train-text', '--input', 'x', '--vocab-size', 'big').err, /--vocab-size must be a positive integer, got 'big'/);
  assert.match(cli('frobnicate').err, /unknown subcommand 'frobnicate'/);
  assert.match(cli('encode-text', '--bogus').err, /Unknown option '--bogus'/);
  assert.equal(cli('--help').code, 0);
});

test('decode-text names an id the tokenizer does not have', () => {
  const corpus = join(dir, 'c2.txt');
  writeFileSync(corpus, makeCorpus(12, 20_000));
  const out = join(dir, 't2.json');
  assert.equal(cli('train-text', '-i', corpus, '--vocab-size', '300', '-o', out).code, 0);
  const r = cli('decode-text', '5', '12', '70000', '--tokenizer', out);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown token id 70000 at position 2/);
  assert.match(cli('decode-text', '5', 'x1', '--tokenizer', out).err, /'x1' \(item 1\) is not a token id/);
});
