import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createImage, writePng } from '../../src/data/image.js';
import { ClipModel, defaultClipConfig } from '../../src/retrieval/clip.js';
import { ClipEncoder } from '../../src/retrieval/clip-encoder.js';
import { openMemoryBank } from '../../src/retrieval/memory-bank.js';
import { Retriever } from '../../src/retrieval/retriever.js';
import { loadTokenizerJson } from '../../src/tokenizers/tokenizer-json.js';
import { ImageTokenizer } from '../../src/tokenizers/vq/image-tokenizer.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const TOKENIZER = 'models/text-tokenizer/tokenizer.json';

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** An untrained bi-encoder saved to `dir` (seed sets its weights, hence its version). */
function saveEncoder(dir: string, seed: number): ClipEncoder {
  const tok = loadTokenizerJson(TOKENIZER);
  const enc = new ClipEncoder(new ClipModel(defaultClipConfig(tok.vocabSize, { channels: [8, 8, 8, 8], textWidth: 16, textHeads: 2, textLayers: 1, hidden: 16, embedDim: 16, seed })), tok, TOKENIZER);
  enc.save(dir);
  return ClipEncoder.load(dir);
}

function square(colour: [number, number, number]) {
  const image = createImage(64, 64, [255, 255, 255]);
  for (let y = 16; y < 48; y++) for (let x = 16; x < 48; x++) image.rgb.set(colour, (y * 64 + x) * 3);
  return image;
}

test('index build --images: captions from captions.tsv and <name>.txt, texts.txt; tokens stored; bad files refused without losing the bank', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-collection-'));
  try {
    const pics = join(dir, 'pics');
    mkdirSync(pics);
    writePng(join(pics, 'a.png'), square([230, 20, 20]));
    writePng(join(pics, 'b.png'), square([20, 20, 230]));
    writePng(join(pics, 'c.png'), square([20, 200, 20]));
    writeFileSync(join(pics, 'captions.tsv'), 'a.png\ta red square\n');
    writeFileSync(join(pics, 'b.txt'), 'a blue square\n');
    writeFileSync(join(pics, 'texts.txt'), 'a note without an image\n');
    saveEncoder(join(dir, 'enc'), 1);
    const bank = join(dir, 'bank');
    const b = cli('index', 'build', '--images', pics, '-o', bank, '--encoder', join(dir, 'enc'));
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /memory bank .*: 4 documents, dim 16, encoder clip@/);

    // A corrupt PNG stops a rebuild with its name; the bank already there is untouched.
    writeFileSync(join(pics, 'd.png'), 'not a png');
    const bad = cli('index', 'build', '--images', pics, '-o', bank, '--encoder', join(dir, 'enc'));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /cannot read image .*d\.png/);
    assert.ok(existsSync(join(bank, 'bank.json')));

    // Queried with another encoder (other weights): refused, naming both versions.
    saveEncoder(join(dir, 'enc2'), 2);
    const other = cli('index', 'query', 'red', '--bank', bank, '--encoder', join(dir, 'enc2'));
    assert.equal(other.code, 2);
    assert.match(other.stderr, /was built by encoder clip@\w+, not clip@\w+/);
    const ok = cli('index', 'query', join(pics, 'a.png'), '--bank', bank, '--encoder', join(dir, 'enc'), '--k', '4');
    assert.equal(ok.code, 0, ok.stderr);
    const lines = ok.stdout.trim().split('\n');
    assert.equal(lines.length, 4);
    assert.ok(lines.some((l) => /a\.png {2}\[both a\.png\] {2}a red square$/.test(l)), ok.stdout);
    assert.ok(lines.some((l) => /texts\.txt:1 {2}\[text\] {2}a note without an image$/.test(l)), ok.stdout);
    assert.ok(lines.some((l) => /c\.png {2}\[image c\.png\] {2}$/.test(l)), ok.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('retriever: documents with their VQ codes, rules applied, k = 0 retrieves nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-retriever-'));
  try {
    const pics = join(dir, 'pics');
    mkdirSync(pics);
    const colours: [string, [number, number, number]][] = [['red', [230, 20, 20]], ['blue', [20, 20, 230]], ['green', [20, 200, 20]]];
    for (const [name, c] of colours) {
      writePng(join(pics, `${name}.png`), square(c));
      writeFileSync(join(pics, `${name}.txt`), `a ${name} square`);
    }
    const enc = saveEncoder(join(dir, 'enc'), 3);
    const bank = join(dir, 'bank');
    const b = cli('index', 'build', '--images', pics, '-o', bank, '--encoder', join(dir, 'enc'));
    assert.equal(b.code, 0, b.stderr);
    const r = await Retriever.open(bank, enc, { expectedCodes: 256 });
    try {
      assert.deepEqual(await r.forText('a red square', 0), []);
      const docs = await r.forText('a red square', 2);
      assert.ok(docs.length >= 1 && docs.length <= 2);
      for (const d of docs) {
        assert.equal(d.codes.length, 256);
        assert.match(d.text, /^a (red|blue|green) square$/);
      }
      await assert.rejects(r.forText('x', -1), /whole number >= 0/);
    } finally {
      r.close();
    }
    const strict = await Retriever.open(bank, enc, { expectedCodes: 64 });
    try {
      await assert.rejects(strict.forText('a red square', 1), /256 image tokens, this model's images have 64/);
    } finally {
      strict.close();
    }
    const opened = await openMemoryBank(bank);
    assert.equal(opened.info.counts.rows, 3);
    // The bank records whose codes it stores (the default tokenizer, the shipped one); a model
    // reading another tokenizer's codes is refused at open, the matching one is not.
    const shipped = ImageTokenizer.load('models/image-tokenizer').codesVersion;
    assert.equal(opened.info.imageTokenizer, shipped);
    opened.close();
    await assert.rejects(Retriever.open(bank, enc, { codesVersion: 'vq@000000000000' }),
      new RegExp(`stores image codes made by image tokenizer ${shipped}; this model reads the codes of vq@000000000000\\. Rebuild the bank`));
    (await Retriever.open(bank, enc, { codesVersion: shipped })).close();
    // A bank from before the tokenizer was recorded: its codes cannot be vouched for.
    const infoPath = join(bank, 'bank.json');
    const older = JSON.parse(readFileSync(infoPath, 'utf8')) as Record<string, unknown>;
    delete older['imageTokenizer'];
    writeFileSync(infoPath, JSON.stringify(older));
    await assert.rejects(Retriever.open(bank, enc, { codesVersion: shipped }), /made by an image tokenizer it did not record/);

    // A bank without codes (64 px images only): the retriever makes them from the stored image.
    const bare = join(dir, 'bare');
    assert.equal(cli('index', 'build', '--images', pics, '-o', bare, '--encoder', join(dir, 'enc'), '--no-tokens').code, 0);
    const seen: number[] = [];
    const lazy = await Retriever.open(bare, enc, { expectedCodes: 256, encodeImage: (image) => (seen.push(image.width), new Int32Array(256).fill(image.rgb[(32 * 64 + 32) * 3]!)) });
    try {
      const [doc] = await lazy.forText('a green square', 1);
      assert.deepEqual(seen, [64]);
      const colour = { red: 230, blue: 20, green: 20 }[doc!.text.split(' ')[1] as 'red' | 'blue' | 'green'];
      assert.equal(doc!.codes[0], colour, 'codes come from the document\'s own image');
    } finally {
      lazy.close();
    }
    // No stored codes: nothing to check, whatever the model's tokenizer.
    const bareBank = await openMemoryBank(bare);
    assert.equal(bareBank.info.imageTokenizer, undefined);
    bareBank.close();
    (await Retriever.open(bare, enc, { codesVersion: 'vq@000000000000' })).close();
    const none = await Retriever.open(bare, enc);
    try {
      await assert.rejects(none.forText('a green square', 1), /has no image tokens/);
    } finally {
      none.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
