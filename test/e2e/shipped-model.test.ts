/** The shipped CM3leon model loads and does what the README's main command does. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePng } from '../../src/data/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const model = join(root, 'models/cm3leon-small');

test('generate and caption with the shipped model', { skip: !existsSync(join(model, 'cm3leon.json')) && 'no shipped model' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cm3leon-shipped-'));
  const out = join(dir, 'out.png');
  let r = spawnSync(process.execPath, [cli, 'generate', 'a large red circle on a white background', '-o', out, '--model', model, '--seed', '3'], { encoding: 'utf8', cwd: root });
  assert.equal(r.status, 0, r.stderr);
  const png = decodePng(readFileSync(out));
  assert.deepEqual([png.width, png.height], [64, 64]);
  r = spawnSync(process.execPath, [cli, 'caption', out, '--model', model], { encoding: 'utf8', cwd: root });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.trim().length > 0, 'the caption is not empty');
});
