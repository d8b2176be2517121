import { spawn, type ChildProcess } from 'node:child_process';
import {
  ExecutionError,
  interpolateEnv,
  type AgentContext,
  type AgentDefinition,
  type AgentExecutionRequest,
  type AgentExecutionResult,
} from '@symbi/core';
import { CappedOutput } from './capped-output.js';
import { DeclaredAgentExecutor, type DeclaredAgentExecutorOptions } from './declared-agent-executor.js';
import { CommandFailedError } from './errors.js';
import { errorMessage } from './execution-limits.js';
import { contextToWire } from './wire.js';

/** Default cap on a command's stdout (1 MiB). */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
/** Default cap on a command's stderr (64 KiB, its tail is kept). */
export const DEFAULT_MAX_STDERR_BYTES = 64 * 1024;
/** Default time between SIGTERM and SIGKILL. */
export const DEFAULT_KILL_GRACE_MS = 5_000;

/**
 * Linux refuses a single environment string above 128 KiB (MAX_ARG_STRLEN), and spawning then
 * fails outright; larger values are left out of the environment (stdin still carries the input).
 */
const ENV_VALUE_LIMIT = 64 * 1024;
/** Enough of the end of stdout to find the `SUMMARY:` line when the output was cut. */
const SUMMARY_TAIL_BYTES = 16 * 1024;
/**
 * The variables a command inherits from the scheduler's environment: what a shell and common
 * tools need to run (search path, home, user, locale, time zone, temp directory, terminal type).
 * Nothing else leaks through: the API key, delivery tokens and LLM keys stay with the scheduler,
 * and an agent gets a secret only when its declaration names it in `env`.
 */
export const INHERITED_ENV_VARS: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'LC_MESSAGES',
  'TZ',
  'TMPDIR',
  'TEMP',
  'TMP',
  'TERM',
  'SYSTEMROOT',
  'COMSPEC',
];
/** How much of stderr an error message quotes. */
const ERROR_STDERR_CHARS = 1_000;
const SUMMARY_LINE = /^SUMMARY:[ \t]?(.*)$/;

/** Options of {@link CommandExecutor}. */
export interface CommandExecutorOptions extends DeclaredAgentExecutorOptions {
  /**
   * The scheduler's environment: `${VAR}` references in agents' `env` are resolved from it, and
   * commands inherit only its {@link INHERITED_ENV_VARS}; default `process.env`.
   */
  env?: Record<string, string | undefined>;
  /** Working directory of the commands; default the current one. */
  cwd?: string;
  /** Cap on stdout; the beginning is kept and a truncation marker added. Default 1 MiB. */
  maxOutputBytes?: number;
  /** Cap on stderr; the end is kept. Default 64 KiB. */
  maxStderrBytes?: number;
  /** Time between SIGTERM and SIGKILL when a run is stopped. Default 5 s. */
  killGraceMs?: number;
}

/**
 * Runs each execution of an agent as one child process: `agent.command` through `/bin/sh -c`, in
 * a process group of its own (POSIX only).
 *
 * The protocol with the command:
 * - Input: the run's input on stdin (then closed), and in `SYMBI_INPUT` when under 64 KiB.
 * - Environment: a minimal one ({@link INHERITED_ENV_VARS} taken from the executor's environment,
 *   never its secrets), the agent's `env` (with `${VAR}` resolved), and
 *   `SYMBI_JOB_ID`, `SYMBI_JOB_NAME`, `SYMBI_RUN_ID`, `SYMBI_AGENT_ID`, `SYMBI_ITERATION`,
 *   `SYMBI_PREVIOUS_SUMMARY` and `SYMBI_CONTEXT` (the agent context as snake_case JSON; the
 *   oldest history is left out when it would exceed 64 KiB), and, when the run is traced,
 *   `TRACEPARENT` (the `symbi.agent` span's W3C trace context, which OpenTelemetry tools in the
 *   command continue).
 * - Output: stdout, without trailing line breaks, capped at `maxOutputBytes` with a marker.
 *   If the last non-empty line is `SUMMARY: <text>`, `<text>` is the run's summary and the line
 *   is removed from the output; otherwise the summary is the whole output. A heartbeat agent that
 *   wants to stop prints `sleep` as the last line before `SUMMARY:` (or as the very last line).
 * - Exit: 0 is success; anything else rejects with a {@link CommandFailedError} holding the exit
 *   code and stderr. stderr is returned as `stderr` either way.
 * - Stopping: on abort or time limit the whole process group gets SIGTERM, then SIGKILL after
 *   `killGraceMs`. Processes the command leaves running in its group when it exits are stopped
 *   the same way, so no run outlives itself.
 */
export class CommandExecutor extends DeclaredAgentExecutor {
  readonly #env: Record<string, string | undefined>;
  readonly #cwd: string | undefined;
  readonly #maxOutputBytes: number;
  readonly #maxStderrBytes: number;
  readonly #killGraceMs: number;

  constructor(options: CommandExecutorOptions) {
    super(options, 'command');
    this.#env = options.env ?? process.env;
    this.#cwd = options.cwd;
    this.#maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    this.#maxStderrBytes = options.maxStderrBytes ?? DEFAULT_MAX_STDERR_BYTES;
    this.#killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  }

  protected run(agent: AgentDefinition, request: AgentExecutionRequest, signal: AbortSignal): Promise<AgentExecutionResult> {
    const env = this.#environment(agent, request);
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const child = spawn(agent.command!, {
        shell: true,
        detached: true,
        cwd: this.#cwd,
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      });
      const stdout = new CappedOutput(this.#maxOutputBytes, 'head');
      const stdoutTail = new CappedOutput(SUMMARY_TAIL_BYTES, 'tail');
      const stderr = new CappedOutput(this.#maxStderrBytes, 'tail');
      child.stdout!.on('data', (chunk: Buffer) => {
        stdout.push(chunk);
        stdoutTail.push(chunk);
      });
      child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
      // A command that never reads its input closes the pipe; that is not a failure.
      child.stdin!.on('error', () => {});
      child.stdin!.end(request.input ?? '');

      let stopping = false;
      const stopGroup = () => {
        if (stopping) return;
        stopping = true;
        this.#stopGroup(child);
      };
      const stop = () => {
        stopGroup();
        reject(signal.reason);
      };
      signal.addEventListener('abort', stop, { once: true });
      child.once('error', (error) => {
        signal.removeEventListener('abort', stop);
        reject(new ExecutionError(`agent "${agent.name}": could not start its command: ${error.message}`, { cause: error }));
      });
      child.once('exit', stopGroup);
      child.once('close', (exitCode: number | null, exitSignal: NodeJS.Signals | null) => {
        signal.removeEventListener('abort', stop);
        if (signal.aborted) return;
        const stderrText = stderr.truncated ? `[${stderr.droppedBytes} earlier bytes of stderr dropped]\n${stderr.text()}` : stderr.text();
        if (exitCode !== 0) {
          const how = exitCode === null ? `was killed by ${exitSignal}` : `exited with code ${exitCode}`;
          const tail = stderrText.trimEnd().slice(-ERROR_STDERR_CHARS);
          reject(new CommandFailedError(`agent "${agent.name}" ${how}${tail ? `: ${tail}` : ''}`, { exitCode, exitSignal, stderr: stderrText }));
          return;
        }
        resolve({ ...this.#parseOutput(stdout, stdoutTail), stderr: stderrText === '' ? null : stderrText });
      });
    });
  }

  #environment(agent: AgentDefinition, request: AgentExecutionRequest): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const name of INHERITED_ENV_VARS) if (this.#env[name] !== undefined) env[name] = this.#env[name];
    for (const [name, template] of Object.entries(agent.env ?? {})) {
      try {
        env[name] = interpolateEnv(template, this.#env, `env.${name}`);
      } catch (error) {
        throw new ExecutionError(`agent "${agent.name}": ${errorMessage(error)}`, { cause: error });
      }
    }
    const { job, run, context } = request;
    Object.assign(env, {
      SYMBI_JOB_ID: job.id,
      SYMBI_JOB_NAME: job.name,
      SYMBI_RUN_ID: run.id,
      SYMBI_AGENT_ID: agent.name,
      SYMBI_ITERATION: String(context.iteration),
    });
    if (request.traceparent !== undefined) env.TRACEPARENT = request.traceparent;
    setBounded(env, 'SYMBI_INPUT', request.input ?? '');
    setBounded(env, 'SYMBI_PREVIOUS_SUMMARY', context.previousSummary ?? '');
    setBounded(env, 'SYMBI_CONTEXT', boundedContextJson(context));
    return env;
  }

  /** SIGTERM to the run's process group now and, if the group still existed, SIGKILL after the grace period. */
  #stopGroup(child: ChildProcess): void {
    if (child.pid === undefined || !signalGroup(child.pid, 'SIGTERM')) return;
    const pid = child.pid;
    this.clock.setTimeout(() => signalGroup(pid, 'SIGKILL'), this.#killGraceMs);
  }

  #parseOutput(stdout: CappedOutput, tail: CappedOutput): AgentExecutionResult {
    const full = stdout.text();
    const lastLine = lastNonEmptyLine(stdout.truncated ? tail.text() : full);
    const summaryMatch = lastLine === undefined ? null : SUMMARY_LINE.exec(lastLine);
    if (stdout.truncated) {
      const output = `${full}\n[output truncated: ${stdout.droppedBytes} more bytes]`;
      return { output, summary: summaryMatch ? summaryMatch[1]!.trim() : output };
    }
    const text = trimLineBreaks(full);
    if (!summaryMatch) return { output: text, summary: text };
    const output = trimLineBreaks(text.slice(0, text.lastIndexOf('\n') + 1));
    return { output, summary: summaryMatch[1]!.trim() };
  }
}

/** Sends `signal` to process group `pid`; false when the group is gone. */
function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

function setBounded(env: NodeJS.ProcessEnv, name: string, value: string): void {
  if (Buffer.byteLength(value) <= ENV_VALUE_LIMIT) env[name] = value;
}

/** The context as JSON, leaving out the oldest history until it fits in one environment value. */
function boundedContextJson(context: AgentContext): string {
  const wire = contextToWire(context);
  let json = JSON.stringify(wire);
  while (Buffer.byteLength(json) > ENV_VALUE_LIMIT && wire.history.length > 0) {
    wire.history.shift();
    json = JSON.stringify(wire);
  }
  return json;
}

function trimLineBreaks(text: string): string {
  return text.replace(/[\r\n]+$/, '');
}

function lastNonEmptyLine(text: string): string | undefined {
  return trimLineBreaks(text).split('\n').pop()?.replace(/\r$/, '');
}
