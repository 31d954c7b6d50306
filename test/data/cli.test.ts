import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPng, writePng } from '../../src/data/image.js';
import { sceneAt } from '../../src/data/shapes-build.js';
import { renderScene } from '../../src/data/shapes-render.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, 'data', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('data build shapes prints counts; data show writes a captioned contact sheet; data parse reads a PNG', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-cli-'));
  try {
    const build = cli('build', 'shapes', '--n', '20', '--seed', '7', '--out', join(dir, 'shapes'));
    assert.equal(build.code, 0, build.stderr);
    assert.match(build.stdout, /shapes dataset, 64px: \d+ images, \d+ pairs, 20 scenes/);
    assert.match(build.stdout, /pairs by type:[\s\S]*grounded/);
    const show = cli('show', join(dir, 'shapes'), '--n', '9', '-o', join(dir, 'sheet.png'));
    assert.equal(show.code, 0, show.stderr);
    const sheet = readPng(join(dir, 'sheet.png'));
    assert.equal(sheet.width, 3 * 136);
    assert.equal(sheet.height, 3 * (136 + 3 * 7 + 4));
    const scene = sceneAt(7, 3);
    writePng(join(dir, 'scene.png'), renderScene(scene, 128));
    const parse = cli('parse', join(dir, 'scene.png'), '--json');
    assert.equal(parse.code, 0, parse.stderr);
    const parsed = JSON.parse(parse.stdout) as { background: string; objects: { shape: string; colour: string }[] };
    assert.equal(parsed.background, scene.background);
    const key = (o: { shape: string; colour: string }): string => `${o.colour} ${o.shape}`;
    assert.deepEqual(parsed.objects.map(key).sort(), scene.objects.map(key).sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('user errors exit 2 with one clear line', () => {
  const cases: [string[], RegExp][] = [
    [['build', 'shapes', '--seed', '1'], /--n is required/],
    [['build', 'shapes', '--n', '5', '--seed', 'x'], /--seed must be a whole number, got 'x'/],
    [['build', 'shapes', '--n', '5', '--seed', '1', '--size', '50'], /--size must be one of/],
    [['build', 'emoji', '--size', '17'], /--size must be one of 16, 32, 64, 128/],
    [['build', 'cats'], /expected 'emoji' or 'shapes'/],
    [['show', tmpdir(), '-o', join(tmpdir(), 'x.png')], /is not a dataset: no info.json/],
    [['show', '/no/such/dir', '-o', 'x.png'], /does not exist/],
    [['parse', fileURLToPath(import.meta.url)], /cli.test.js: not an image in a supported format/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
