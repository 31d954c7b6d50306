/** Neural-network building blocks: modules, layers, initialisers, optimizer, schedules, safetensors. */
export * from './module.js';
export * from './layers.js';
export * from './init.js';
export * from './optim.js';
export * from './safetensors.js';
