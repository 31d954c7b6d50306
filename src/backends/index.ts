/**
 * Choosing the device the engine runs on, for the library and the CLI's `--device cpu|webgpu|auto`:
 * `cpu` is always there; `webgpu` brings up the WebGPU backend (and fails with a clear message when
 * there is no adapter); `auto` takes WebGPU when an adapter exists, else the CPU. The chosen
 * backend becomes the default for new tensors.
 */
import { getBackend, setBackend, type Backend } from '../tensor/backend.js';
import './cpu/index.js';
import { initWebGpu, webGpuAvailable, type WebGpuOptions } from './webgpu/index.js';

export type DeviceName = 'cpu' | 'webgpu' | 'auto';
export const deviceNames: readonly DeviceName[] = ['cpu', 'webgpu', 'auto'];

export function parseDevice(name: string): DeviceName {
  if ((deviceNames as readonly string[]).includes(name)) return name as DeviceName;
  throw new Error(`unknown device '${name}' (expected ${deviceNames.join(', ')})`);
}

/**
 * The backend a device name stands for, brought up when needed (WebGPU's adapter and device), as a
 * value to pass on: the process-wide default backend is left as it is. What the library's loaders
 * (`Cm3leon.load({ device })`) use.
 */
export async function resolveDevice(name: DeviceName | string = 'auto', options: WebGpuOptions = {}): Promise<Backend> {
  const device = parseDevice(name);
  if (device === 'cpu') return getBackend('cpu');
  if (device === 'webgpu' || (await webGpuAvailable(options))) return initWebGpu({ ...options, makeDefault: false });
  return getBackend('cpu');
}

/** Makes `name` the default backend for new tensors and returns it (engine users; loaders take a device instead). */
export async function selectDevice(name: DeviceName | string = 'auto', options: WebGpuOptions = {}): Promise<Backend> {
  const device = parseDevice(name);
  if (device === 'cpu') return setBackend('cpu');
  if (device === 'webgpu' || (await webGpuAvailable(options))) {
    await initWebGpu(options);
    return setBackend('webgpu');
  }
  return setBackend('cpu');
}

export { getBackend, setBackend };
export { initWebGpu, webGpuAvailable, webGpuBackend, type WebGpuBackend, type WebGpuOptions } from './webgpu/index.js';
