/** cm3leon: the library entry. Importing it registers the CPU backends. */
export { cpuInfo, setNumThreads } from './backends/cpu/index.js';
export * from './tensor/index.js';
export * from './nn/index.js';
export { selectDevice, parseDevice, initWebGpu, webGpuAvailable, type DeviceName, type WebGpuBackend, type WebGpuOptions } from './backends/index.js';
