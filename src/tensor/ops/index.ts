/** All tensor ops, re-exported from one place. */
export * from './create.js';
export * from './views.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './linalg.js';
export * from './nn.js';
