/**
 * `symbi`: the command line of the Symbiont scheduler (`symbi up`, `symbi cron …`,
 * `symbi audit query`, `symbi run`, `symbi logs`), and the wiring it is built from, for hosts
 * that want the same "configuration + files → running scheduler" in their own process.
 *
 * @packageDocumentation
 * @module symbi
 */
export { main, createProgram, VERSION } from './program.js';
export { EXIT_OK, EXIT_ERROR, EXIT_USAGE, UsageError, CliError, reportError, type ErrorReport } from './errors.js';
export { processIo, type Io, type GlobalOptions } from './io.js';
export {
  createRuntime,
  loadAgentFiles,
  syncSchedules,
  undeclaredAgents,
  agentPinOptions,
  cliActor,
  STATE_DIR,
  type AgentFiles,
  type RuntimeOptions,
  type SymbiRuntime,
  type SyncResult,
} from './runtime.js';
export { resolveStoreLocation, openStore, describeStore } from './store-location.js';
export { openFileLog, DEFAULT_LOG_FILE, LOG_LEVELS, type FileLog, type LogComponent } from './logging.js';
export type { Backend, JobView, RunView, AuditView } from './backend/backend.js';
