export { isWithinAllowedHours } from './allowed-hours.js';
export { SchedulePolicyGate } from './schedule-policy-gate.js';
export { composeGates } from './compose-gates.js';
