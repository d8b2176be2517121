import type { JobSpec } from '@symbi/core';
import type { FieldReader } from './field-reader.js';
import type { SymbiValue } from './syntax.js';

/** The job fields one delivery URI sets. */
type Target = Pick<JobSpec, 'webhookUrl' | 'slackChannel' | 'emailRecipients'> & { channel: string };

const FORMS = '`slack://CHANNEL`, `webhook+https://…` or an https URL, `mailto:ADDRESS`, `email://ADDRESS`, `log_file://` or `stdout://`';

/**
 * Reads Symbiont's `deliver: "URI"` (or a list of URIs) into our delivery fields:
 *
 * | URI | sets |
 * | --- | --- |
 * | `slack://compliance-alerts` (`slack://` alone: the configured default channel) | `delivery: ["slack"]`, `slack_channel: "#compliance-alerts"` |
 * | `webhook+https://hooks.example.com/x`, `https://hooks.example.com/x` (or `http`) | `delivery: ["webhook"]`, `webhook_url` |
 * | `mailto:a@example.com,b@example.com`, `email://a@example.com` | `delivery: ["email"]`, `email_recipients` |
 * | `log_file://` | `delivery: ["log_file"]` (the file is `<log_dir>/<job name>.log`) |
 * | `stdout://` | `delivery: ["stdout"]` |
 *
 * `deliver` and `delivery` together are refused, as are two different webhook URLs or Slack channels.
 */
export function readDeliver(reader: FieldReader, value: SymbiValue, path: string, spec: Partial<JobSpec>): void {
  const uris = value.kind === 'list' ? reader.stringList(value, path) : [reader.string(value, path)];
  if (uris.length === 0) throw reader.error(value.position, path, `\`${path}\` needs at least one URI: ${FORMS}`);
  const delivery: string[] = [];
  uris.forEach((uri, index) => {
    const itemPath = value.kind === 'list' ? `${path}[${index}]` : path;
    const position = reader.positions[itemPath] ?? value.position;
    const fail = (detail: string): never => {
      throw reader.error(position, itemPath, `\`${itemPath}\`: ${detail}`, { value: uri });
    };
    const target = parseUri(uri, fail);
    if (!delivery.includes(target.channel)) delivery.push(target.channel);
    for (const key of ['webhookUrl', 'slackChannel'] as const) {
      const given = target[key];
      if (given === undefined) continue;
      if (spec[key] != null && spec[key] !== given) fail(`a second ${target.channel} target ("${given}" after "${spec[key]}"); one job has one`);
      spec[key] = given;
    }
    if (target.emailRecipients) spec.emailRecipients = [...(spec.emailRecipients ?? []), ...target.emailRecipients];
  });
  spec.delivery = delivery;
}

function parseUri(uri: string, fail: (detail: string) => never): Target {
  const scheme = /^([a-z][a-z0-9+._-]*):(\/\/)?(.*)$/i.exec(uri.trim());
  if (scheme === null) return fail(`"${uri}" is not a delivery URI; write ${FORMS}`);
  const name = (scheme[1] as string).toLowerCase();
  const rest = scheme[3] as string;
  switch (name) {
    case 'slack':
      return { channel: 'slack', ...(rest === '' ? {} : { slackChannel: rest.startsWith('#') ? rest : `#${rest}` }) };
    case 'webhook+https':
    case 'webhook+http':
      return { channel: 'webhook', webhookUrl: uri.trim().slice('webhook+'.length) };
    case 'https':
    case 'http':
      return { channel: 'webhook', webhookUrl: uri.trim() };
    case 'mailto':
    case 'email': {
      const addresses = rest.split('?')[0]!.split(',').map((address) => address.trim()).filter((address) => address !== '');
      if (addresses.length === 0) return fail(`"${uri}" names no recipient, e.g. mailto:ops@example.com`);
      return { channel: 'email', emailRecipients: addresses };
    }
    case 'log_file':
    case 'stdout':
      if (rest !== '') {
        const where = name === 'log_file' ? 'the log file is always <log_dir>/<job name>.log (set `log_dir` in symbi.toml)' : 'stdout takes no path';
        return fail(`"${uri}" has a path; ${where}, so write "${name}://"`);
      }
      return { channel: name };
    default:
      return fail(`unknown delivery scheme "${name}:"; write ${FORMS}`);
  }
}
