/**
 * `@symbi/dsl`: the Symbiont DSL (`agent` and `schedule` blocks) and `symbi.toml` configuration, read
 * into job specs and scheduler settings.
 *
 * @packageDocumentation
 * @module @symbi/dsl
 */
export { DslError, ConfigError, type ConfigErrorLocation } from './errors.js';
export type { SourcePosition } from './source-excerpt.js';
export {
  parseSymbiSyntax,
  type SymbiSyntax,
  type SymbiEntry,
  type SymbiValue,
  type StringNode,
  type NumberNode,
  type BooleanNode,
  type ListNode,
  type BlockNode,
  type IdentNode,
  type OpaqueNode,
} from './syntax.js';
export { parseSymbi, loadSymbiFile, keptItemNote, type SymbiDocument, type ParseSymbiOptions, type MetadataValue } from './parse-symbi.js';
export type { ScheduleBlock } from './schedule-block.js';
export type { NamedPolicy } from './named-policy.js';
export type { KeptItem, AgentBlock } from './agent-block.js';
export { toJobSpecs, type ToJobSpecsOptions } from './job-specs.js';
export {
  parseConfig,
  loadConfig,
  parseStoreUrl,
  ENV_OVERRIDES,
  DEFAULT_CONFIG_FILE,
  type ParseConfigOptions,
  type LoadConfigOptions,
} from './config.js';
export { toSchedulerConfig } from './scheduler-config.js';
export { withAgentRunners, type AgentRunner } from './agent-runners.js';
export {
  defaultSymbiConfig,
  type SymbiConfig,
  type SchedulerSettings,
  type DeliverySettings,
  type ApiKeySettings,
  type ApiSettings,
  type AgentPinSettings,
  type StoreLocation,
} from './config-types.js';
