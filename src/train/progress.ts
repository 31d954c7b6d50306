/** The training progress line and the duration format it shares with the loop's messages. */

/** 75 -> "1m15s", 4000 -> "1h06m", non-finite -> "?". */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
}

/** `[####......] step 12/100 loss 1.2345 <stats> lr 1.00e-3 950 tok/s ETA 1m02s` */
export function progressLine(p: { step: number; steps: number; loss: number; stats: Record<string, number>; lr: number; rate: number; unit: string; eta: number }): string {
  const done = Math.max(0, Math.min(30, Math.round((30 * p.step) / p.steps)));
  const stats = Object.entries(p.stats).map(([k, v]) => ` ${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`).join('');
  return `[${'#'.repeat(done)}${'.'.repeat(30 - done)}] step ${p.step}/${p.steps} loss ${p.loss.toFixed(4)}${stats} lr ${p.lr.toExponential(2)} ${p.rate.toFixed(p.rate < 10 ? 1 : 0)} ${p.unit}/s ETA ${formatDuration(p.eta)}`;
}
