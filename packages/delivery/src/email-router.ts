import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import { DeliveryError } from '@symbi/core';
import type { CronJobDefinition, DeliveryChannel, DeliveryRouter, JobRunRecord } from '@symbi/core';
import { routerContext } from './router-options.js';
import type { RouterContext, RouterOptions } from './router-options.js';
import { describeRunText, truncateOutput } from './run-summary.js';

/** Most characters of output put in a message body; mail systems choke on huge bodies. */
const MAX_OUTPUT_CHARS = 1_000_000;
/** Time allowed to open the connection, to receive the greeting, and of socket silence. */
const CONNECTION_TIMEOUT_MS = 30_000;
const GREETING_TIMEOUT_MS = 30_000;
const SOCKET_TIMEOUT_MS = 60_000;
/** Failures of the connection itself, as nodemailer names them: worth another try later. */
const TRANSIENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET']);

/** The part of a nodemailer error that is safe to read. */
interface SmtpFailure {
  code?: string;
  responseCode?: number;
  message?: string;
}

/**
 * The `email` channel: sends one message per run over SMTP (nodemailer) to the job's
 * `email_recipients`, from `emailFrom`. The subject and body name the job, the status and the
 * output. Refused recipients fail the delivery without a retry, so nobody gets the mail twice.
 */
export class EmailRouter implements DeliveryRouter {
  readonly #context: RouterContext;
  #transport: Transporter | undefined;

  constructor(options: RouterOptions = {}) {
    this.#context = routerContext(options);
  }

  /** Sends the message; rejects with a `DeliveryError` when the server did not accept it for every recipient. */
  async route(channel: DeliveryChannel, job: CronJobDefinition, run: JobRunRecord, output: string): Promise<void> {
    const { config, redactor } = this.#context;
    if (!config.smtpHost) throw new DeliveryError(channel, 'SMTP is not configured: set smtp_host');
    if (job.emailRecipients.length === 0) throw new DeliveryError(channel, `job ${job.name} has no email_recipients`);
    const server = `${config.smtpHost}:${config.smtpPort}`;
    let info: { accepted: unknown[]; rejected: unknown[] };
    try {
      info = await this.#transporter().sendMail({
        from: config.emailFrom,
        to: job.emailRecipients,
        subject: emailSubject(job, run),
        text: emailBody(job, run, output),
      });
    } catch (error) {
      const failure = error as SmtpFailure;
      const code = failure.code ?? 'EUNKNOWN';
      const retryable = TRANSIENT_CODES.has(code) || (failure.responseCode !== undefined && failure.responseCode >= 400 && failure.responseCode < 500);
      const message = redactor.text(failure.message ?? 'unknown error');
      throw new DeliveryError(channel, `SMTP delivery via ${server} failed (${code}): ${message}`, { retryable });
    }
    if (info.rejected.length > 0) {
      const refused = info.rejected.map((address) => (typeof address === 'string' ? address : (address as { address: string }).address));
      throw new DeliveryError(channel, `${server} refused ${refused.length} of ${job.emailRecipients.length} recipients: ${refused.join(', ')}`);
    }
  }

  #transporter(): Transporter {
    const { config } = this.#context;
    this.#transport ??= nodemailer.createTransport({
      host: config.smtpHost,
      port: config.smtpPort,
      secure: config.smtpSecure,
      auth: config.smtpUsername ? { user: config.smtpUsername, pass: config.smtpPassword ?? '' } : undefined,
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      greetingTimeout: GREETING_TIMEOUT_MS,
      socketTimeout: SOCKET_TIMEOUT_MS,
    });
    return this.#transport;
  }
}

/** `[symbi] <job>: <status>`, on one line whatever the job name holds. */
export function emailSubject(job: CronJobDefinition, run: JobRunRecord): string {
  return `[symbi] ${job.name}: ${run.status}`.replace(/[\r\n]+/g, ' ');
}

/** The facts of the run, then its output. */
export function emailBody(job: CronJobDefinition, run: JobRunRecord, output: string): string {
  const shown = output.trim() === '' ? '(no output)' : truncateOutput(output, MAX_OUTPUT_CHARS);
  return `${describeRunText(job, run)}\n\nOutput:\n${shown}\n`;
}
