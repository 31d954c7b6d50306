// Builds the native CPU addon (build/Release/cm3leon_native.node) with the node-gyp that ships with
// npm, against this Node's own headers (never downloads anything). Run by `npm install` / `npm ci`
// (the package's install script) and by `npm run build:native` (--force).
//
//   node scripts/build-native.mjs [--force]
//
// Without --force the build is skipped when the addon is newer than binding.gyp and every file in
// native/. A failed build prints one warning line and exits 0: the engine then runs on its TypeScript
// reference kernels, so installing the package never fails because of the addon.
// CM3LEON_SKIP_NATIVE=1 skips the build altogether.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const force = process.argv.includes('--force');
const addon = path.join(root, 'build', 'Release', 'cm3leon_native.node');
const logFile = path.join(root, 'build', 'build-native.log');

function warn(reason) {
  console.warn(`cm3leon: native CPU addon not built (${reason}); using the TypeScript kernels instead.`);
  process.exit(0);
}

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

function upToDate() {
  const built = mtime(addon);
  if (built < 0) return false;
  const dir = path.join(root, 'native');
  const sources = [path.join(root, 'binding.gyp'), ...fs.readdirSync(dir).map((f) => path.join(dir, f))];
  return sources.every((f) => mtime(f) < built);
}

// node-gyp: the one npm runs us with, else the one bundled with the npm next to this node.
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    process.env.npm_execpath && path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => c && fs.existsSync(c));
}

// A directory holding this Node's headers as include/node/node_api.h (what --nodedir expects).
function findNodeDir() {
  const prefix = process.config?.variables?.node_prefix;
  const candidates = [
    process.env.npm_config_nodedir,
    path.resolve(path.dirname(process.execPath), '..'),
    prefix,
    '/usr',
    '/usr/local',
  ];
  return candidates.find((d) => d && fs.existsSync(path.join(d, 'include', 'node', 'node_api.h')) &&
    fs.existsSync(path.join(d, 'include', 'node', 'common.gypi')));
}

if (process.env.CM3LEON_SKIP_NATIVE === '1') warn('CM3LEON_SKIP_NATIVE=1');
if (!force && upToDate()) {
  console.log('cm3leon: native CPU addon is up to date');
  process.exit(0);
}
const nodeGyp = findNodeGyp();
if (!nodeGyp) warn('node-gyp not found next to npm');
const nodeDir = findNodeDir();
if (!nodeDir) warn("this Node's headers (include/node/node_api.h) were not found");

const env = { ...process.env, npm_config_nodedir: nodeDir };
const args = [nodeGyp, 'rebuild', `--nodedir=${nodeDir}`, '--jobs=max', '--loglevel=warn'];
const started = Date.now();
const res = spawnSync(process.execPath, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 << 20 });
const log = `$ ${args.join(' ')}\n${res.stdout ?? ''}${res.stderr ?? ''}${res.error ? String(res.error) : ''}`;
try {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  fs.writeFileSync(logFile, log);
} catch {
  // the log is a convenience only
}
if (res.status !== 0 || !fs.existsSync(addon)) {
  try {
    fs.rmSync(addon, { force: true });
  } catch {}
  warn(`build failed, see ${path.relative(root, logFile)}`);
}

// Load it in a child process so a broken binary is caught here rather than in the engine.
const check = spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(addon)}).info()))`], {
  encoding: 'utf8',
});
if (check.status !== 0) {
  fs.rmSync(addon, { force: true });
  fs.appendFileSync(logFile, `\n$ load check\n${check.stdout}${check.stderr}`);
  warn(`the built addon does not load, see ${path.relative(root, logFile)}`);
}
const warnings = (log.match(/warning:/g) ?? []).length;
console.log(
  `cm3leon: built native CPU addon in ${((Date.now() - started) / 1000).toFixed(1)} s: ${check.stdout.trim()}` +
    (warnings ? ` (${warnings} compiler warnings, see ${path.relative(root, logFile)})` : ''),
);
