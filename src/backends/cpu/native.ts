/**
 * Loads the native CPU addon (built by `npm ci` through scripts/build-native.mjs). When it is
 * missing or fails to load, or CM3LEON_NATIVE=0, returns null and says so once on stderr: the
 * engine then runs on the TypeScript reference kernels (correct, much slower).
 */
import { createRequire } from 'node:module';
import type { NativeAddon } from './native-api.js';

let cached: NativeAddon | null | undefined;
let reason = '';

export function loadNative(): NativeAddon | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (typeof process === 'undefined' || !process.versions?.node) {
    reason = 'not running in Node';
    return cached;
  }
  if (process.env.CM3LEON_NATIVE === '0') {
    reason = 'disabled by CM3LEON_NATIVE=0';
    return cached;
  }
  const require = createRequire(import.meta.url);
  // This file runs from dist/src/backends/cpu/ (compiled) — the package root is four levels up.
  const candidates = ['../../../../build/Release/cm3leon_native.node', '../../../build/Release/cm3leon_native.node'];
  const errors: string[] = [];
  for (const rel of candidates) {
    try {
      cached = require(new URL(rel, import.meta.url).pathname) as NativeAddon;
      return cached;
    } catch (err) {
      errors.push((err as Error).message.split('\n')[0]!);
    }
  }
  reason = errors.find((e) => !e.includes('Cannot find module')) ?? 'build/Release/cm3leon_native.node not found';
  process.emitWarning(`native CPU kernels unavailable (${reason}); using the TypeScript reference kernels, which are much slower. Build them with \`npm run build:native\`.`, { code: 'CM3LEON_NO_NATIVE' });
  return cached;
}

export function nativeUnavailableReason(): string {
  return reason;
}
