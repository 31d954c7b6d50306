/// <reference types="@webgpu/types" />
/**
 * Compiles the WGSL kernels into compute pipelines, once per (kernel, substitutions). A kernel's
 * source is the prelude, then the files it names with `//!include NAME`, then its own text;
 * substitutions either define a type alias (`T`, `SRC`, `DST`: `alias T = f32;`) or replace a
 * placeholder (`__D__`). The bind group layout is read off the source's declarations (binding 0
 * is the parameter slot; `read` storage becomes read-only), so it always matches the kernel.
 */
import type { Pipeline } from './queue.js';
import { wgslSources } from './wgsl.generated.js';

export type Subs = Readonly<Record<string, string | number>>;

export function kernelSource(name: string, subs: Subs = {}): string {
  const body = wgslSources[name];
  if (body === undefined) throw new Error(`webgpu: no kernel named '${name}'`);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(subs)) if (!k.startsWith('__')) parts.push(`alias ${k} = ${v};`);
  parts.push(wgslSources['prelude']!);
  for (const m of body.matchAll(/^\/\/!include ([\w-]+)$/gm)) {
    const inc = wgslSources[m[1]!];
    if (inc === undefined) throw new Error(`webgpu: kernel '${name}' includes unknown '${m[1]}'`);
    parts.push(inc);
  }
  let text = [...parts, body].join('\n');
  for (const [k, v] of Object.entries(subs)) if (k.startsWith('__')) text = text.split(k).join(String(v));
  return text;
}

export class PipelineCache {
  private cache = new Map<string, Pipeline>();

  constructor(private readonly device: GPUDevice) {}

  get(name: string, subs: Subs = {}): Pipeline {
    const key = `${name}|${JSON.stringify(subs)}`;
    let p = this.cache.get(key);
    if (p) return p;
    const code = kernelSource(name, subs);
    const entries: GPUBindGroupLayoutEntry[] = [{ binding: 0, visibility: 4, buffer: { type: 'uniform' } }];
    for (const m of code.matchAll(/@binding\((\d+)\)\s*var<storage,\s*(read|read_write)>/g)) {
      entries.push({ binding: Number(m[1]), visibility: 4, buffer: { type: m[2] === 'read' ? 'read-only-storage' : 'storage' } });
    }
    const layout = this.device.createBindGroupLayout({ entries });
    const module = this.device.createShaderModule({ code, label: name });
    const pipeline = this.device.createComputePipeline({
      label: name,
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    p = { pipeline, layout, name };
    this.cache.set(key, p);
    return p;
  }

  /** Compiles a kernel and returns the compiler's errors (empty when it compiles). Tests use it. */
  async compileErrors(name: string, subs: Subs = {}): Promise<string[]> {
    const module = this.device.createShaderModule({ code: kernelSource(name, subs), label: name });
    const info = await module.getCompilationInfo();
    return info.messages.filter((m) => m.type === 'error').map((m) => `${name}:${m.lineNum}:${m.linePos} ${m.message}`);
  }
}
