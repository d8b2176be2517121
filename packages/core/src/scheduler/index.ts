export * from './config.js';
export * from './cron-scheduler.js';
export * from './default-agent-scheduler.js';
export * from './events.js';
export * from './heartbeat.js';
export * from './job-definition.js';
export * from './metrics.js';
export * from './session-context.js';
