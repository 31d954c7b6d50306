/**
 * Child process for the recipes' SIGKILL test: trains `kind` in `runDir` for `steps` steps and
 * kills itself with SIGKILL once the progress line for step `killAt` is out (a kill at an arbitrary
 * point: mid-step, between checkpoints).
 */
import { runToy, type RecipeKind } from './recipe-fixtures.js';

const [kind, runDir, steps, killAt] = process.argv.slice(2) as [RecipeKind, string, string, string];
await runToy(kind, {
  runDir, steps: Number(steps),
  log: (l) => {
    process.stdout.write(`${l}\n`);
    if (new RegExp(`step ${killAt}/`).test(l)) process.kill(process.pid, 'SIGKILL');
  },
});
