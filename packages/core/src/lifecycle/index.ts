export * from './claim.js';
export * from './fire-planner.js';
export * from './manual-transitions.js';
export * from './run-state.js';
export * from './transitions.js';
export * from './clock-step.js';
export * from './retention.js';
