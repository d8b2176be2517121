export * from './claim.js';
export * from './fire-planner.js';
export * from './run-state.js';
export * from './transitions.js';
