import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '@symbi/core';
import { EmailRouter } from '@symbi/delivery';
import { makeJob, makeRun, rejection } from './support/fixtures.js';
import { startSmtpReceiver } from './support/smtp-receiver.js';
import type { SmtpReceiver, SmtpReceiverOptions } from './support/smtp-receiver.js';

let receiver: SmtpReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

async function start(options: SmtpReceiverOptions = {}): Promise<SmtpReceiver> {
  receiver = await startSmtpReceiver(options);
  return receiver;
}

describe('EmailRouter', () => {
  it('sends one message naming the job, the status and the output to every recipient', async () => {
    const smtp = await start();
    const router = new EmailRouter({ config: { smtpHost: '127.0.0.1', smtpPort: smtp.port, emailFrom: 'symbiont@example.com' } });
    const job = makeJob({ name: 'security-scan', emailRecipients: ['ops@example.com', 'security@example.com'] });
    const run = makeRun(job);

    await router.route('email', job, run, 'No critical findings.\nTwo warnings.');

    expect(smtp.messages).toHaveLength(1);
    const [mail] = smtp.messages;
    expect(mail!.from).toBe('symbiont@example.com');
    expect(mail!.to).toEqual(['ops@example.com', 'security@example.com']);
    expect(mail!.subject).toBe('[symbi] security-scan: succeeded');
    expect(mail!.text).toContain('Job:       security-scan');
    expect(mail!.text).toContain('Status:    succeeded');
    expect(mail!.text).toContain(`Run:       ${run.id} (schedule, attempt 1)`);
    expect(mail!.text).toContain('Duration:  1.2 s');
    expect(mail!.text).toContain('Output:\nNo critical findings.\nTwo warnings.\n');
    expect(mail!.user).toBeUndefined();
  });

  it('authenticates with the configured credentials', async () => {
    const smtp = await start({ credentials: { username: 'mailer', password: 'correct-horse-battery' } });
    const router = new EmailRouter({
      config: { smtpHost: '127.0.0.1', smtpPort: smtp.port, smtpUsername: 'mailer', smtpPassword: 'correct-horse-battery' },
    });
    const job = makeJob({ emailRecipients: ['ops@example.com'] });

    await router.route('email', job, makeRun(job, { status: 'failed', error: 'agent crashed' }), 'partial output');

    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]!.user).toBe('mailer');
    expect(smtp.messages[0]!.subject).toBe('[symbi] daily-report: failed');
    expect(smtp.messages[0]!.text).toContain('Error:     agent crashed');
  });

  it('fails without retry when the server refuses the login', async () => {
    const smtp = await start({ credentials: { username: 'mailer', password: 'correct-horse-battery' } });
    const router = new EmailRouter({ config: { smtpHost: '127.0.0.1', smtpPort: smtp.port, smtpUsername: 'mailer', smtpPassword: 'wrong-password-123' } });
    const job = makeJob({ emailRecipients: ['ops@example.com'] });

    const error = await rejection(router.route('email', job, makeRun(job), 'x'));

    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.message).toContain(`SMTP delivery via 127.0.0.1:${smtp.port} failed (EAUTH)`);
    expect(error.retryable).toBe(false);
    expect(smtp.messages).toHaveLength(0);
  });

  it('fails when a recipient is refused, naming it', async () => {
    const smtp = await start({ refuse: ['gone@example.com'] });
    const router = new EmailRouter({ config: { smtpHost: '127.0.0.1', smtpPort: smtp.port } });
    const job = makeJob({ emailRecipients: ['ops@example.com', 'gone@example.com'] });

    const error = await rejection(router.route('email', job, makeRun(job), 'x'));

    expect(error.message).toContain('refused 1 of 2 recipients: gone@example.com');
    expect(error.retryable).toBe(false);
    expect(smtp.messages.map((mail) => mail.to)).toEqual([['ops@example.com']]);
  });

  it('reports an unreachable server as retryable', async () => {
    const smtp = await start();
    const port = smtp.port;
    await smtp.close();
    receiver = undefined;
    const router = new EmailRouter({ config: { smtpHost: '127.0.0.1', smtpPort: port } });
    const job = makeJob({ emailRecipients: ['ops@example.com'] });

    const error = await rejection(router.route('email', job, makeRun(job), 'x'));

    expect(error.message).toContain('ECONNREFUSED');
    expect(error.retryable).toBe(true);
  });

  it('needs an SMTP host and recipients', async () => {
    const job = makeJob({ emailRecipients: ['ops@example.com'] });
    const noHost = await rejection(new EmailRouter().route('email', job, makeRun(job), 'x'));
    expect(noHost.message).toBe('email: SMTP is not configured: set smtp_host');

    const nobody = makeJob();
    const noRecipients = await rejection(new EmailRouter({ config: { smtpHost: '127.0.0.1' } }).route('email', nobody, makeRun(nobody), 'x'));
    expect(noRecipients.message).toBe('email: job daily-report has no email_recipients');
  });
});
