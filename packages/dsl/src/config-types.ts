import type { ApiKeyRole } from '@symbi/core';
import type { DeliveryConfig } from '@symbi/delivery';
import type { AgentRunner } from './agent-runners.js';

/** Where the job store lives, resolved from `store_url` / `SYMBI_DB` or `job_store_path`. */
export type StoreLocation =
  /** An SQLite database file (`:memory:` for an in-memory database). */
  | { kind: 'sqlite'; path: string }
  /** A PostgreSQL connection URL (`postgres://…` or `postgresql://…`). */
  | { kind: 'postgres'; url: string };

/** The `[scheduler]` table: the spec's `CronSchedulerConfig` plus this project's additions. */
export interface SchedulerSettings {
  /**
   * Longest the loop sleeps without looking at the store, in seconds (TOML `tick_interval_seconds`).
   * @defaultValue 1
   */
  tickIntervalSeconds: number;
  /**
   * Random start delay of 0..N seconds for jobs without their own `jitter` (`max_jitter_seconds`,
   * env `SYMBI_SCHEDULER_MAX_JITTER`).
   * @defaultValue 0
   */
  maxJitterSeconds: number;
  /**
   * Global limit of runs executing at once (`max_concurrent_jobs`, alias `max_concurrent_cron_jobs`,
   * env `SYMBI_SCHEDULER_MAX_CONCURRENT`).
   * @defaultValue 100
   */
  maxConcurrentJobs: number;
  /**
   * Limit of deliveries being sent at once (`max_concurrent_deliveries`); deliveries have a queue
   * of their own and never hold one of the `max_concurrent_jobs` execution slots.
   * @defaultValue 10
   */
  maxConcurrentDeliveries: number;
  /**
   * Most runs claimed per store round trip (`claim_batch_size`).
   * @defaultValue 256
   */
  claimBatchSize: number;
  /**
   * How early fires are claimed and held until due, in seconds (`claim_ahead_seconds`); must be
   * shorter than the lease.
   * @defaultValue 0.25
   */
  claimAheadSeconds: number;
  /**
   * Runs claimed beyond the free execution slots, waiting for a slot (`prefetch`): raises the
   * throughput of many short runs; keep 0 when several instances share long-running agents.
   * @defaultValue 0
   */
  prefetch: number;
  /**
   * Keep Prometheus metrics (`enable_metrics`).
   * @defaultValue true
   */
  enableMetrics: boolean;
  /**
   * Consecutive failures before dead-letter for jobs without `max_retries` (`default_max_retries`).
   * @defaultValue 3
   */
  defaultMaxRetries: number;
  /**
   * How long shutdown waits for in-flight runs, in seconds (`shutdown_timeout_seconds`).
   * @defaultValue 30
   */
  shutdownTimeoutSeconds: number;
  /**
   * SQLite job store file (`job_store_path`); used when `store_url` is not set.
   * @defaultValue `"./.symbi/scheduler.db"`
   */
  jobStorePath: string;
  /**
   * Run fires missed while down, per each job's `catchup` (`enable_missed_run_catchup`).
   * @defaultValue true
   */
  enableMissedRunCatchup: boolean;
  /**
   * Job store as written (`store_url`, env `SYMBI_DB`): an SQLite path, `sqlite:PATH`, or
   * `postgres://…`; null when not set.
   * @defaultValue null
   */
  storeUrl: string | null;
  /**
   * The store to open: `storeUrl` when set, else `jobStorePath`.
   * @defaultValue `{ kind: 'sqlite', path: './.symbi/scheduler.db' }`
   */
  store: StoreLocation;
  /**
   * This scheduler's environment, matched by jobs' `allowed_environments` (`environment`, env `SYMBI_ENV`).
   * @defaultValue `"development"`
   */
  environment: string;
  /**
   * Oldest missed fire that catch-up still runs, in seconds (`catchup_window_seconds`).
   * @defaultValue 86400
   */
  catchupWindowSeconds: number;
  /**
   * How late a fire may start and still count as on time, in seconds (`misfire_grace_seconds`):
   * the grace for timer lateness. A fire found due later than this was missed and follows its
   * job's `catchup` policy.
   * @defaultValue 5
   */
  misfireGraceSeconds: number;
  /**
   * How long an approval request waits before its run ends `denied`, in seconds (`approval_timeout_seconds`).
   * @defaultValue 86400
   */
  approvalTimeoutSeconds: number;
  /**
   * Days finished runs are kept before pruning deletes them, for jobs without their own
   * `history_retention_days` (`history_retention_days`); null keeps them whatever their age.
   * @defaultValue null
   */
  historyRetentionDays: number | null;
  /**
   * Most finished runs kept per job, the newest, for jobs without their own
   * `history_retention_runs` (`history_retention_runs`); null keeps any number.
   * @defaultValue null
   */
  historyRetentionRuns: number | null;
  /**
   * How often run history is pruned by the retention policies, in seconds (`history_prune_interval_seconds`).
   * @defaultValue 600
   */
  historyPruneIntervalSeconds: number;
}

/**
 * The `[scheduler.delivery]` table, in camelCase: exactly the delivery package's
 * {@link DeliveryConfig}. Only keys that were set appear: the delivery channels apply their own
 * defaults to the rest. String values may have used `${VAR}`, already resolved here.
 */
export type DeliverySettings = DeliveryConfig;

/** One `[[api.keys]]` entry: a key with the identity and role it stands for. */
export interface ApiKeySettings {
  /** Who holds it: the audit actor and recorded approver of its requests (`label`). */
  label: string;
  /** What it may do (`role`): `read-only`, `approver` or `operator`. */
  role: ApiKeyRole;
  /** The secret itself (`key`), usually a `${VAR}` reference. */
  key: string;
}

/** The `[api]` table: the HTTP API server. */
export interface ApiSettings {
  /**
   * Address as written (`listen`), `HOST:PORT` or `[IPv6]:PORT`.
   * @defaultValue `"127.0.0.1:8080"`
   */
  listen: string;
  /**
   * Host part of `listen` (IPv6 without brackets).
   * @defaultValue `"127.0.0.1"`
   */
  host: string;
  /**
   * Port part of `listen`.
   * @defaultValue 8080
   */
  port: number;
  /**
   * A single key (`api_key`, env `SYMBI_API_KEY`): its holder is `api` with the role `operator`;
   * null when not set.
   * @defaultValue null
   */
  apiKey: string | null;
  /**
   * Labelled keys with roles (`[[api.keys]]`). Once any is configured, a job's `policy.approver`
   * restricts its approvals to the key of that label.
   * @defaultValue []
   */
  keys: ApiKeySettings[];
  /**
   * Longest wait for a request's headers, in seconds (`headers_timeout_seconds`).
   * @defaultValue 10
   */
  headersTimeoutSeconds: number;
  /**
   * Longest wait for a whole request, in seconds (`request_timeout_seconds`).
   * @defaultValue 30
   */
  requestTimeoutSeconds: number;
  /**
   * Most connections open at once (`max_connections`).
   * @defaultValue 256
   */
  maxConnections: number;
  /**
   * Serve the health endpoint without the API key (`open_health`).
   * @defaultValue false
   */
  openHealth: boolean;
  /**
   * Serve `/metrics` without the API key (`open_metrics`).
   * @defaultValue false
   */
  openMetrics: boolean;
  /**
   * Variables that `${VAR}` references in values sent through the API may read (`env_allow`),
   * in `webhook_headers` values and `agent_pin_jwt`. Any other `${…}` in an API value is kept as
   * literal text: a caller can never read the scheduler's environment.
   * @defaultValue []
   */
  envAllow: string[];
}

/** The `[agentpin]` table: agent identity verification. */
export interface AgentPinSettings {
  /**
   * Require a valid AgentPin credential for every job (`required`, env `SYMBI_AGENTPIN_REQUIRED`).
   * @defaultValue false
   */
  required: boolean;
  /**
   * Expected domain anchor, the credentials' `iss` (`domain`, env `SYMBI_AGENTPIN_DOMAIN`).
   * @defaultValue null
   */
  domain: string | null;
  /**
   * File of trusted discovery documents (`trust_bundle`).
   * @defaultValue null
   */
  trustBundle: string | null;
  /**
   * Directory of local discovery documents (`discovery_dir`).
   * @defaultValue null
   */
  discoveryDir: string | null;
  /**
   * Allow discovery over plain HTTP, for tests only (`allow_insecure_discovery`).
   * @defaultValue false
   */
  allowInsecureDiscovery: boolean;
  /**
   * Audiences a credential's `aud` claim may name (`audience`); empty for the domain anchor.
   * A credential without `aud` is accepted; one addressed elsewhere is refused (`wrong_audience`).
   * @defaultValue []
   */
  audience: string[];
}

/**
 * The `symbi.toml` configuration after defaults, `${VAR}` interpolation and `SYMBI_*` environment
 * overrides. Every TOML key is the snake_case form of the field it sets.
 */
export interface SymbiConfig {
  /** The file it was read from; null when no file was used. */
  file: string | null;
  /** `[scheduler]`. */
  scheduler: SchedulerSettings;
  /** `[scheduler.delivery]`. */
  delivery: DeliverySettings;
  /** `[api]`. */
  api: ApiSettings;
  /** `[agentpin]`. */
  agentpin: AgentPinSettings;
  /** `[agents.NAME]`: how agents declared without `command`, `url` or `model` (e.g. Symbiont agents) run. */
  agents: Record<string, AgentRunner>;
}

/** The configuration used when no file and no environment override says otherwise. */
export function defaultSymbiConfig(): SymbiConfig {
  return {
    file: null,
    scheduler: {
      tickIntervalSeconds: 1,
      maxJitterSeconds: 0,
      maxConcurrentJobs: 100,
      maxConcurrentDeliveries: 10,
      claimBatchSize: 256,
      claimAheadSeconds: 0.25,
      prefetch: 0,
      enableMetrics: true,
      defaultMaxRetries: 3,
      shutdownTimeoutSeconds: 30,
      jobStorePath: './.symbi/scheduler.db',
      enableMissedRunCatchup: true,
      storeUrl: null,
      store: { kind: 'sqlite', path: './.symbi/scheduler.db' },
      environment: 'development',
      catchupWindowSeconds: 86_400,
      misfireGraceSeconds: 5,
      approvalTimeoutSeconds: 86_400,
      historyRetentionDays: null,
      historyRetentionRuns: null,
      historyPruneIntervalSeconds: 600,
    },
    delivery: {},
    api: {
      listen: '127.0.0.1:8080',
      host: '127.0.0.1',
      port: 8080,
      apiKey: null,
      keys: [],
      openHealth: false,
      openMetrics: false,
      envAllow: [],
      headersTimeoutSeconds: 10,
      requestTimeoutSeconds: 30,
      maxConnections: 256,
    },
    agentpin: { required: false, domain: null, trustBundle: null, discoveryDir: null, allowInsecureDiscovery: false, audience: [] },
    agents: {},
  };
}
