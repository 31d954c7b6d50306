/**
 * Each recipe (decoder, image tokenizer whole and decoder-only with a discriminator, bi-encoder)
 * killed with SIGKILL mid-run, then resumed from its last checkpoint, ends with the weights of an
 * uninterrupted run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCheckpoint, readTrainerState } from '../../src/train/run-dir.js';
import { maxDifference, runToy, type RecipeKind } from './recipe-fixtures.js';

const STEPS = 8;
const KILL_AT = 5; // checkpoints every 2 steps: the kill loses step 5, the run resumes from step 4

for (const kind of ['decoder', 'image-tokenizer', 'image-tokenizer-decoder', 'bi-encoder'] as RecipeKind[]) {
  test(`${kind}: resumed after a SIGKILL, the same weights as an uninterrupted run`, async () => {
    const runDir = mkdtempSync(join(tmpdir(), `cm3leon-kill-${kind}-`));
    const child = spawnSync(process.execPath, [fileURLToPath(new URL('./recipe-child.js', import.meta.url)), kind, runDir, String(STEPS), String(KILL_AT)], { encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL', `the child was killed (status ${child.status}): ${child.stderr.slice(-500)}`);
    assert.match(child.stdout, new RegExp(`step ${KILL_AT}/${STEPS}`));
    assert.equal(readTrainerState(findCheckpoint(runDir)!).step, KILL_AT - 1);
    const lines: string[] = [];
    const resumed = await runToy(kind, { runDir, steps: STEPS, resume: true, log: (l) => lines.push(l) });
    assert.ok(lines.some((l) => new RegExp(`resumed from step ${KILL_AT - 1} `).test(l)), 'the run resumed from the checkpoint');
    assert.ok(!lines.some((l) => /step 1\//.test(l)), 'step 1 is not trained again');
    const straight = await runToy(kind, { runDir: mkdtempSync(join(tmpdir(), `cm3leon-straight-${kind}-`)), steps: STEPS });
    assert.equal(resumed.step, STEPS);
    const d = await maxDifference(straight.params, resumed.params);
    assert.ok(d < 1e-6, `weights differ by ${d}`);
    assert.equal(resumed.lastLoss, straight.lastLoss);
  });
}
