import { resolve } from 'node:path';
import { userInfo } from 'node:os';
import type { Writable } from 'node:stream';
import {
  AgentPinVerifier,
  CronScheduler,
  DirectoryDiscovery,
  FilePinStore,
  TrustBundleDiscovery,
  WellKnownDiscovery,
  silentLogger,
  type AgentDefinition,
  type CronJobDefinition,
  type CronSchedulerOptions,
  type DiscoveryResolver,
  type JobSpec,
  type JobStore,
  type Redactor,
} from '@symbi/core';
import type { ChannelRouter, NetworkEndpoint } from '@symbi/delivery';
import { keptItemNote, loadSymbiFile, toJobSpecs, toSchedulerConfig, withAgentRunners, type StoreLocation, type SymbiConfig, type SymbiDocument } from '@symbi/dsl';
import type { AgentRegistry } from '@symbi/executors';
import { CliError } from './errors.js';
import type { FileLog } from './logging.js';
import { configuredRedactor } from './secret-values.js';
import { openStore } from './store-location.js';

/** Folder of the CLI's own state (log, server record, AgentPin pins), in the working directory. */
export const STATE_DIR = '.symbi';

/** Who the audit log names for actions taken from this command line: `cli:<user>`. */
export function cliActor(env: Record<string, string | undefined> = process.env): string {
  let user = env.USER ?? env.USERNAME;
  try {
    user = userInfo().username;
  } catch {
    // Containers without a passwd entry for the uid have no user name; USER is the best left.
  }
  return `cli:${user ?? 'unknown'}`;
}

/** The agents and schedules of some `.symbi` files, validated. */
export interface AgentFiles {
  /** The files, as absolute paths, in the order given. */
  files: string[];
  /** Every agent declared. */
  agents: AgentDefinition[];
  /** Every schedule, as job specs ready for `CronScheduler.upsert`. */
  specs: JobSpec[];
  /** One line per Symbiont function, type or agent signature the files hold, saying it is kept but not run. */
  notes: string[];
}

/**
 * Reads and validates `.symbi` files together, so that a schedule's `policy: "NAME"` finds the
 * policy in any of them. A schedule or agent defined twice (within a file or across files) is an
 * error naming both places.
 */
export function loadAgentFiles(files: readonly string[], cwd: string = process.cwd()): AgentFiles {
  const loaded: AgentFiles = { files: [], agents: [], specs: [], notes: [] };
  const agentFile = new Map<string, string>();
  const scheduleFile = new Map<string, string>();
  const documents: SymbiDocument[] = [];
  for (const given of files) {
    const file = resolve(cwd, given);
    const document = loadSymbiFile(file);
    for (const agent of document.agents) {
      const first = agentFile.get(agent.name);
      if (first !== undefined) throw new CliError(`agent "${agent.name}" is declared in both ${first} and ${given}`, 'rename one of them');
      agentFile.set(agent.name, given);
      loaded.agents.push(agent);
    }
    for (const { spec } of document.schedules) {
      const first = scheduleFile.get(spec.name);
      if (first !== undefined) throw new CliError(`schedule "${spec.name}" is defined in both ${first} and ${given}`, 'rename one of them');
      scheduleFile.set(spec.name, given);
    }
    loaded.notes.push(...document.kept.map((item) => keptItemNote(document, item)));
    documents.push(document);
    loaded.files.push(file);
  }
  loaded.specs = toJobSpecs(documents);
  return loaded;
}

/** What a {@link SymbiRuntime} is built from. */
export interface RuntimeOptions {
  /** The configuration (`loadConfig`). */
  config: SymbiConfig;
  /** The store to open (`resolveStoreLocation`). */
  location: StoreLocation;
  /** Agents and schedules; none when the command only manages the store. */
  files?: AgentFiles;
  /** The structured log; without one nothing is logged. */
  log?: FileLog;
  /** Where the `stdout` delivery channel writes (default `process.stdout`). */
  stdout?: Writable;
  /** Environment for commands, `${VAR}` references and AgentPin credentials (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Working directory for the CLI's state folder (default `process.cwd()`). */
  cwd?: string;
  /** Masks secrets in what is stored and logged (default: {@link configuredRedactor} of the configuration and files). */
  redactor?: Redactor;
  /** Where this process serves the API, which a job's webhook may never reach; read at each delivery. */
  selfEndpoints?: () => readonly NetworkEndpoint[];
  /**
   * Build the delivery router (default true). Commands that only manage jobs never deliver, and
   * skip loading the channels.
   */
  delivery?: boolean;
}

/** Everything `symbi up`, `symbi cron` and `symbi run` work with, wired from the configuration. */
export interface SymbiRuntime {
  /** The configuration used. */
  readonly config: SymbiConfig;
  /** Where the store is. */
  readonly location: StoreLocation;
  /** The opened store (initialised by `scheduler.start()` or {@link SymbiRuntime.init}). */
  readonly store: JobStore;
  /** Runs the declared agents. */
  readonly executor: AgentRegistry;
  /** Delivers run output to channels; null when built without delivery. */
  readonly router: ChannelRouter | null;
  /** The scheduler on the store (started only by `up` and in-process runs). */
  readonly scheduler: CronScheduler;
  /** Agents and schedules loaded from files. */
  readonly files: AgentFiles;
  /** Initialises the store (migrations); safe to call more than once. */
  init(): Promise<void>;
  /** Stops the scheduler if it runs (waiting for runs in flight), then closes the store. */
  close(): Promise<void>;
}

/** The AgentPin options of the scheduler, when the `[agentpin]` table configures verification. */
export function agentPinOptions(config: SymbiConfig, stateDir: string): CronSchedulerOptions['agentPin'] {
  const settings = config.agentpin;
  if (settings.domain === null) {
    if (settings.required) {
      throw new CliError('agentpin.required is set but no domain anchor is configured', 'set [agentpin] domain or SYMBI_AGENTPIN_DOMAIN');
    }
    return undefined;
  }
  const discovery: DiscoveryResolver[] = [];
  if (settings.trustBundle !== null) discovery.push(new TrustBundleDiscovery(resolve(settings.trustBundle)));
  if (settings.discoveryDir !== null) discovery.push(new DirectoryDiscovery(resolve(settings.discoveryDir)));
  if (discovery.length === 0) {
    discovery.push(new WellKnownDiscovery(settings.allowInsecureDiscovery ? { baseUrl: `http://${settings.domain}` } : {}));
  }
  const verifier = new AgentPinVerifier({ discovery, pins: new FilePinStore(resolve(stateDir, 'agentpin-pins.json')) });
  return { verifier, domain: settings.domain, required: settings.required, ...(settings.audience.length > 0 && { audience: settings.audience }) };
}

/**
 * Wires "configuration + files → scheduler": opens the store, builds the agent executor, the
 * delivery router and AgentPin verification from the configuration, and a `CronScheduler` on
 * them. Nothing is started; `up` starts the scheduler, store commands use its life-cycle API.
 */
export async function createRuntime(options: RuntimeOptions): Promise<SymbiRuntime> {
  const { config, location, log } = options;
  const env = options.env ?? process.env;
  const files = options.files ?? { files: [], agents: [], specs: [], notes: [] };
  const [delivery, { createAgentExecutor }, store] = await Promise.all([
    options.delivery === false ? null : import('@symbi/delivery'),
    import('@symbi/executors'),
    openStore(location),
  ]);
  const executor = createAgentExecutor({ agents: withAgentRunners(files.agents, config.agents), env });
  const redactor = options.redactor ?? configuredRedactor(config, files, env);
  const router =
    delivery &&
    new delivery.ChannelRouter({
      config: { ...config.delivery, allowHosts: [...(config.delivery.allowHosts ?? []), ...webhookOrigins(files.specs)] },
      env,
      logger: log?.for('delivery') ?? silentLogger,
      redactor,
      ...(options.selfEndpoints ? { selfEndpoints: options.selfEndpoints } : {}),
      ...(options.stdout ? { stdout: options.stdout } : {}),
    });
  const scheduler = new CronScheduler({
    redactor,
    store,
    executor,
    router,
    agentPin: agentPinOptions(config, resolve(options.cwd ?? process.cwd(), STATE_DIR)),
    config: toSchedulerConfig(config),
    logger: log?.for('scheduler') ?? silentLogger,
  });
  let initialised: Promise<void> | null = null;
  return {
    config,
    location,
    store,
    executor,
    router,
    scheduler,
    files,
    init() {
      initialised ??= store.init();
      return initialised;
    },
    async close() {
      try {
        await scheduler.stop();
      } finally {
        await store.close();
      }
    },
  };
}

/**
 * The `host:port` of every webhook URL the loaded files name: an operator wrote them, so the
 * outbound policy lets jobs deliver there even when the address is loopback or private.
 */
export function webhookOrigins(specs: readonly JobSpec[]): string[] {
  return specs.flatMap((spec) => {
    if (!spec.webhookUrl || !URL.canParse(spec.webhookUrl)) return [];
    const url = new URL(spec.webhookUrl);
    const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
    return [`${url.hostname.replace(/\.$/, '')}:${port}`];
  });
}

/** What {@link syncSchedules} did with one schedule. */
export interface SyncResult {
  /** The job as stored now. */
  job: CronJobDefinition;
  /** `created`, `updated` (its definition changed) or `unchanged`. */
  action: 'created' | 'updated' | 'unchanged';
}

/**
 * Upserts every schedule of the loaded files by name, so that loading the same files again never
 * duplicates a job.
 */
export async function syncSchedules(runtime: SymbiRuntime, actor: string): Promise<SyncResult[]> {
  await runtime.init();
  const results: SyncResult[] = [];
  for (const spec of runtime.files.specs) results.push(await runtime.scheduler.upsert(spec, { actor }));
  return results;
}

/**
 * Schedules whose agent neither a loaded file nor an `[agents.NAME]` table of the configuration
 * declares; their runs would fail with "unknown agent".
 */
export function undeclaredAgents(files: AgentFiles, config?: Pick<SymbiConfig, 'agents'>): { schedule: string; agent: string }[] {
  const declared = new Set([...files.agents.map((agent) => agent.name), ...Object.keys(config?.agents ?? {})]);
  return files.specs.filter((spec) => !declared.has(spec.agentId)).map((spec) => ({ schedule: spec.name, agent: spec.agentId }));
}
