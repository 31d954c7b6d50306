/** cm3leon: the library entry. Importing it registers the CPU backends. */
import './backends/cpu/index.js';
export * from './tensor/index.js';
export * from './nn/index.js';
