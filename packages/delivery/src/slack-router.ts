import { DeliveryError } from '@symbi/core';
import type { CronJobDefinition, DeliveryChannel, DeliveryRouter, JobRunRecord, RunStatus } from '@symbi/core';
import type { HostResolver } from './address-guard.js';
import { deliverHttp, judgeStatus, parseUrl } from './http-delivery.js';
import type { HttpDeliveryRequest, HttpResponse, ResponseVerdict } from './http-delivery.js';
import { httpOptions, routerContext } from './router-options.js';
import type { HttpRouterOptions, RouterContext } from './router-options.js';
import { formatDuration, truncateOutput } from './run-summary.js';

/**
 * Most characters of output put in a message. Slack truncates the display of messages past about
 * 4,000 characters; this leaves room for the heading inside that.
 */
const MAX_OUTPUT_CHARS = 3000;

/** Web API errors that may clear by themselves. */
const RETRYABLE_API_ERRORS = new Set(['ratelimited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);

const STATUS_EMOJI: Partial<Record<RunStatus, string>> = {
  succeeded: ':white_check_mark:',
  failed: ':x:',
  timed_out: ':hourglass:',
  denied: ':no_entry:',
  interrupted: ':warning:',
};

/**
 * The `slack` channel. With `slackWebhookUrl` it posts to that incoming webhook; otherwise it calls
 * `chat.postMessage` with the bearer `slackApiToken`, in the job's `slack_channel` or
 * `slackDefaultChannel`. Honours `429 Retry-After` and treats Slack's `{ ok: false }` as a failure.
 */
export class SlackRouter implements DeliveryRouter {
  readonly #context: RouterContext;
  readonly #resolveHost: HostResolver | undefined;

  constructor(options: HttpRouterOptions = {}) {
    this.#context = routerContext(options);
    this.#resolveHost = options.resolveHost;
  }

  /** Posts a message about the run; rejects with a `DeliveryError` once every attempt failed. */
  async route(channel: DeliveryChannel, job: CronJobDefinition, run: JobRunRecord, output: string): Promise<void> {
    const { slackWebhookUrl, slackApiToken, slackApiUrl, slackDefaultChannel } = this.#context.config;
    const text = formatSlackMessage(job, run, output);
    const logFields = { job: job.name, run_id: run.id };
    let request: HttpDeliveryRequest;
    if (slackWebhookUrl) {
      request = {
        channel,
        url: parseUrl(channel, slackWebhookUrl),
        trust: 'operator',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ text }),
        judge: judgeIncomingWebhook,
        logFields,
      };
    } else if (slackApiToken) {
      const target = job.slackChannel ?? slackDefaultChannel;
      if (!target) throw new DeliveryError(channel, `job ${job.name} has no slack_channel and no slack_default_channel is configured`);
      request = {
        channel,
        url: parseUrl(channel, `${slackApiUrl.replace(/\/+$/, '')}/chat.postMessage`),
        trust: 'operator',
        headers: { 'Content-Type': 'application/json; charset=utf-8', Authorization: `Bearer ${slackApiToken}` },
        body: JSON.stringify({ channel: target, text, unfurl_links: false, unfurl_media: false }),
        judge: judgeWebApi,
        logFields: { ...logFields, slack_channel: target },
      };
    } else {
      throw new DeliveryError(channel, 'Slack is not configured: set slack_webhook_url or slack_api_token');
    }
    await deliverHttp(request, httpOptions(this.#context, this.#resolveHost));
  }
}

/**
 * The message text: a heading with status, job and duration, a line about the run, the error if
 * any, and the output in a code block cut to a readable length.
 */
export function formatSlackMessage(job: CronJobDefinition, run: JobRunRecord, output: string): string {
  const emoji = STATUS_EMOJI[run.status] ?? ':information_source:';
  const lines = [
    `${emoji} *${escapeMrkdwn(job.name)}* ${run.status} · ${formatDuration(run.executionTimeMs)}`,
    `Run \`${run.id}\` · ${run.trigger} · attempt ${run.attempt} · scheduled ${run.scheduledFor.toISOString()}`,
  ];
  if (run.error) lines.push(`Error: ${escapeMrkdwn(run.error)}`);
  const body = output.trim() === '' ? '(no output)' : truncateOutput(output, MAX_OUTPUT_CHARS);
  lines.push('```' + escapeMrkdwn(body).replace(/```/g, '`\u200b`\u200b`') + '```');
  return lines.join('\n');
}

/** Slack's mrkdwn gives `&`, `<` and `>` meaning; everything else shows as written. */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An incoming webhook answers `ok`, or an HTTP error with a short code such as `invalid_payload`. */
function judgeIncomingWebhook(response: HttpResponse, now: number): ResponseVerdict {
  const verdict = judgeStatus(response, now);
  if (verdict.ok) return verdict;
  const code = slackErrorCode(response.body);
  return code ? { ...verdict, reason: `${verdict.reason} (${code})` } : verdict;
}

/** The Web API answers 200 with `{ ok: false, error }` for most failures. */
function judgeWebApi(response: HttpResponse, now: number): ResponseVerdict {
  const verdict = judgeStatus(response, now);
  if (!verdict.ok) return verdict;
  let answer: { ok?: unknown; error?: unknown };
  try {
    answer = JSON.parse(response.body) as { ok?: unknown; error?: unknown };
  } catch {
    return { ok: false, reason: 'the Slack API answered with something other than JSON', retryable: false };
  }
  if (answer.ok === true) return { ok: true };
  const code = typeof answer.error === 'string' ? slackErrorCode(answer.error) : null;
  return { ok: false, reason: `Slack error ${code ?? 'unknown'}`, retryable: code !== null && RETRYABLE_API_ERRORS.has(code) };
}

/** Slack's error codes are short snake_case words; anything else is not shown. */
function slackErrorCode(text: string): string | null {
  const trimmed = text.trim();
  return /^[a-z0-9_]{1,64}$/.test(trimmed) ? trimmed : null;
}
