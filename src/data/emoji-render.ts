/**
 * Crash-proof SVG rasterisation: a pool of child processes (emoji-render-worker.ts) renders jobs
 * in chunks; a job that throws is reported as a failure, and a job that kills its process (resvg
 * aborts on a few icons) is reported as a crash while the pool starts a new process and goes on.
 * No knowledge of emoji: it maps SVG text to size x size RGB pixels on white.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface RenderRequest {
  size: number;
  jobs: { index: number; svg: string }[];
}

export type RenderReply = { index: number; rgb: Uint8Array; error?: undefined } | { index: number; error: string };

export interface RenderOptions {
  size: number;
  /** Child processes; default: the machine's cores, at most 4. */
  workers?: number;
  /** Jobs sent per message. */
  chunk?: number;
  /** A job that takes longer than this is killed and reported (ms). */
  timeoutMs?: number;
  /** Give up when more processes than this have died. */
  maxCrashes?: number;
  onImage: (index: number, rgb: Uint8Array) => void;
  onFailure: (index: number, reason: string, crashed: boolean) => void;
}

export interface RenderStats {
  rendered: number;
  failed: number;
  crashes: number;
}

const workerUrl = new URL('./emoji-render-worker.js', import.meta.url);

/** Render `svgs[i]()` for every i; results arrive through the callbacks in any order. */
export async function renderSvgs(svgs: readonly (() => string)[], options: RenderOptions): Promise<RenderStats> {
  const stats: RenderStats = { rendered: 0, failed: 0, crashes: 0 };
  const queue = svgs.map((_, i) => i);
  const chunkSize = options.chunk ?? 32;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxCrashes = options.maxCrashes ?? 100;
  const fail = (index: number, reason: string, crashed: boolean): void => {
    stats.failed++;
    options.onFailure(index, reason, crashed);
  };

  /** The next chunk of jobs with their SVG text; unreadable SVGs fail here, in the parent. */
  const takeChunk = (): RenderRequest['jobs'] => {
    const jobs: RenderRequest['jobs'] = [];
    while (queue.length && jobs.length < chunkSize) {
      const index = queue.shift()!;
      try {
        jobs.push({ index, svg: svgs[index]!() });
      } catch (err) {
        fail(index, `unreadable SVG: ${(err as Error).message}`, false);
      }
    }
    return jobs;
  };

  const runSlot = (): Promise<void> => new Promise((resolve, reject) => {
    let pending: number[] = [];
    let child: ChildProcess;
    let timer: NodeJS.Timeout | undefined;
    let stderrTail = '';
    let finished = false;

    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    };
    const sendNext = (): void => {
      const jobs = takeChunk();
      if (jobs.length === 0) {
        finished = true;
        clearTimeout(timer);
        child.disconnect();
        resolve();
        return;
      }
      pending = jobs.map((j) => j.index);
      arm();
      child.send({ size: options.size, jobs } satisfies RenderRequest);
    };
    const start = (): void => {
      child = fork(workerUrl, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      stderrTail = '';
      child.stderr!.on('data', (data: Buffer) => {
        stderrTail = (stderrTail + data.toString()).slice(-2000);
      });
      child.on('message', (reply: RenderReply) => {
        pending = pending.filter((i) => i !== reply.index);
        if (reply.error === undefined) {
          stats.rendered++;
          options.onImage(reply.index, reply.rgb);
        } else {
          fail(reply.index, reply.error, false);
        }
        if (pending.length === 0) sendNext();
        else arm();
      });
      child.on('exit', (code, signal) => {
        if (finished) return;
        clearTimeout(timer);
        // Jobs run in order: the first unanswered one killed the process.
        const culprit = pending.shift();
        queue.unshift(...pending);
        pending = [];
        stats.crashes++;
        if (culprit !== undefined) {
          const panic = /panicked at [^\n]*\n?([^\n]*)/.exec(stderrTail)?.[1]?.trim();
          const why = signal === 'SIGKILL' ? `timed out after ${timeoutMs} ms` : `renderer crashed (${signal ?? `exit ${code}`}${panic ? `: ${panic}` : ''})`;
          fail(culprit, why, true);
        }
        if (stats.crashes > maxCrashes) {
          finished = true;
          reject(new Error(`the SVG renderer died ${stats.crashes} times; giving up (last: ${stderrTail.trim().split('\n').pop() ?? ''})`));
          return;
        }
        start();
        sendNext();
      });
    };
    start();
    sendNext();
  });

  const workers = Math.max(1, Math.min(options.workers ?? Math.min(4, availableParallelism()), Math.ceil(svgs.length / chunkSize)));
  await Promise.all(Array.from({ length: workers }, runSlot));
  return stats;
}
