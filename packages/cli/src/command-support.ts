import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { loadConfig, type StoreLocation, type SymbiConfig } from '@symbi/dsl';
import { ApiBackend } from './backend/api-backend.js';
import type { Backend } from './backend/backend.js';
import { StoreBackend } from './backend/store-backend.js';
import { CliError } from './errors.js';
import type { CommandContext } from './io.js';
import { cliActor, createRuntime, loadAgentFiles, type AgentFiles } from './runtime.js';
import { describeStore, resolveStoreLocation } from './store-location.js';
import { readServerRecord } from './server-record.js';

/**
 * Reads `--config` (or `./symbi.toml` when present), defaults and `SYMBI_*` overrides. A command
 * that delivers nothing passes `delivery: false`, so it needs none of the delivery secrets.
 */
export function loadCliConfig(ctx: CommandContext, options: { delivery?: boolean } = {}): SymbiConfig {
  return loadConfig({
    ...(ctx.globals.config === undefined ? {} : { path: ctx.globals.config }),
    env: ctx.io.env,
    cwd: ctx.io.cwd,
    resolveDelivery: options.delivery ?? true,
  });
}

/** A running server named by `--api` or `SYMBI_API_URL`, with its key (`--api-key`, `SYMBI_API_KEY`, `[api] api_key`). */
export function apiTarget(ctx: CommandContext, config: SymbiConfig | null): { url: string; apiKey: string | null } | null {
  const url = ctx.globals.api ?? (ctx.io.env.SYMBI_API_URL || undefined);
  if (url === undefined) return null;
  return { url, apiKey: apiKeyOf(ctx, config) };
}

/** The API key to present: `--api-key`, else `SYMBI_API_KEY` / `[api] api_key`. */
export function apiKeyOf(ctx: CommandContext, config: SymbiConfig | null): string | null {
  return ctx.globals.apiKey ?? config?.api.apiKey ?? (ctx.io.env.SYMBI_API_KEY || null);
}

/**
 * The configuration, or null when commands go to a server and it cannot be read: the server has
 * its own, and only the API key would come from it.
 */
export function softConfig(ctx: CommandContext): SymbiConfig | null {
  const remote = ctx.globals.api ?? (ctx.io.env.SYMBI_API_URL || undefined);
  // The backend delivers nothing (see openBackend).
  if (remote === undefined) return loadCliConfig(ctx, { delivery: false });
  try {
    return loadCliConfig(ctx, { delivery: false });
  } catch {
    return null;
  }
}

/**
 * The store commands work on, which must exist unless `create`: a mistyped `--db` path would
 * otherwise become a new, empty store that lists no jobs.
 */
export function existingStore(ctx: CommandContext, config: SymbiConfig, create = false): StoreLocation {
  const location = resolveStoreLocation(ctx.globals.db, config);
  if (!create && location.kind === 'sqlite' && location.path !== ':memory:' && !existsSync(resolve(ctx.io.cwd, location.path))) {
    throw new CliError(`no store at ${location.path}`, 'start one with symbi up or symbi cron add, or point --db or SYMBI_DB at an existing one');
  }
  return location;
}

/**
 * Opens what `cron` and `audit` commands work on: the server named by `--api`/`SYMBI_API_URL`,
 * else the store (`--db`, `SYMBI_DB`, the configuration, default `./.symbi/scheduler.db`), which
 * must exist unless `create`.
 */
export async function openBackend(ctx: CommandContext, create = false): Promise<Backend> {
  const config = softConfig(ctx);
  const api = apiTarget(ctx, config);
  if (api) return new ApiBackend(api.url, api.apiKey);
  const resolved = config as SymbiConfig;
  const runtime = await createRuntime({ config: resolved, location: existingStore(ctx, resolved, create), env: ctx.io.env, cwd: ctx.io.cwd, delivery: false });
  return new StoreBackend(runtime, cliActor(ctx.io.env));
}

/** Runs `work` with a backend (see {@link openBackend}) and closes it afterwards. */
export async function withBackend<T>(ctx: CommandContext, work: (backend: Backend) => Promise<T>, options: { create?: boolean } = {}): Promise<T> {
  const backend = await openBackend(ctx, options.create);
  try {
    return await work(backend);
  } finally {
    await backend.close();
  }
}

/**
 * The agent files a command runs with: those given with `--file`, else those the last `symbi up`
 * on the same store loaded (from its record in `.symbi/servers/`).
 */
export function agentFilesFor(ctx: CommandContext, given: readonly string[], config: SymbiConfig): AgentFiles {
  if (given.length > 0) return loadAgentFiles(given, ctx.io.cwd);
  const store = describeStore(resolveStoreLocation(ctx.globals.db, config), ctx.io.cwd);
  const record = readServerRecord(ctx.io.cwd, store);
  return loadAgentFiles(record?.files ?? [], ctx.io.cwd);
}

/** Writes to standard output, with control characters of stored data escaped (`Style.safe`). */
export function print(ctx: CommandContext, text: string): void {
  ctx.io.stdout.write(ctx.out.safe(text));
}

/** Writes a notice to standard error, so that it never mixes with JSON or CSV on stdout (escaped as {@link print}). */
export function notice(ctx: CommandContext, text: string): void {
  ctx.io.stderr.write(`${ctx.err.safe(text)}\n`);
}

/** A commander argument parser for a whole number of at least `min`. */
export function integerOption(min: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < min) throw new InvalidArgumentError(`must be a whole number of at least ${min}.`);
    return Number(value);
  };
}

/** A commander collector for a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
