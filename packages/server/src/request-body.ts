import type { IncomingMessage } from 'node:http';
import { ValidationError } from '@symbi/core';
import { ApiError } from './api-error.js';

/** Default largest accepted request body: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Most bytes read and thrown away from a body that is refused (too large, or sent with an error
 * response), so the client gets its answer instead of a reset connection. Beyond it the
 * connection is closed.
 */
export function drainLimit(maxBodyBytes: number): number {
  return Math.max(maxBodyBytes * 8, 8 * 1024 * 1024);
}

/**
 * Whether the request announces a body. Requests without one (a bare `curl -X POST`) are treated
 * as an empty JSON object by routes whose body is optional.
 */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length.trim() !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

/** Whether a `Content-Type` names JSON (`application/json`, or any `+json` type). */
export function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const type = value.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/**
 * Reads and parses a JSON request body of at most `maxBytes`. Returns `undefined` when the
 * request has no body. Throws 415 for a non-JSON content type, 413 when too large, 400 when the
 * bytes are not UTF-8 JSON.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  if (!hasBody(req)) return undefined;
  if (!isJsonContentType(req.headers['content-type'])) {
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'request bodies must be JSON (Content-Type: application/json)');
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > drainLimit(maxBytes)) throw tooLarge(maxBytes);
  const { bytes } = await receive(req, maxBytes, drainLimit(maxBytes));
  if (bytes === null) throw tooLarge(maxBytes);
  if (bytes.length === 0) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(400, 'BAD_JSON', 'request body is not valid UTF-8');
  }
  try {
    // The reviver only runs when the key appears at all, keeping the common path at native speed.
    return (text.includes('"__proto__"') ? JSON.parse(text, refuseProtoKeys) : JSON.parse(text)) as unknown;
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ApiError(400, 'BAD_JSON', 'request body is not valid JSON');
  }
}

/**
 * A `__proto__` key is never a field of this API, and code that copies objects with plain
 * assignment would turn it into a prototype change; it is refused wherever it appears.
 */
function refuseProtoKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new ValidationError('__proto__', 'is not an allowed field name', undefined);
  return value;
}

/**
 * Reads and discards what is left of a request body, up to `limit` bytes. Resolves true when the
 * body was read to its end (the connection may be reused), false otherwise.
 */
export async function discardBody(req: IncomingMessage, limit: number): Promise<boolean> {
  if (Number(req.headers['content-length']) > limit) return false;
  return (await receive(req, 0, limit)).complete;
}

/**
 * Reads a body through events rather than async iteration, since ending an iteration early
 * destroys the socket before the error response can be written. Keeps at most `keep` bytes
 * (`bytes` is null when the body was longer) and stops reading after `limit` bytes.
 */
function receive(req: IncomingMessage, keep: number, limit: number): Promise<{ bytes: Buffer | null; complete: boolean }> {
  if (req.readableEnded) return Promise.resolve({ bytes: Buffer.alloc(0), complete: req.complete });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (complete: boolean) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      resolve({ bytes: size > keep ? null : Buffer.concat(chunks), complete });
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= keep) chunks.push(chunk);
      if (size > limit) {
        req.pause();
        finish(false);
      }
    };
    const onEnd = () => finish(true);
    const onError = () => finish(false);
    const onClose = () => finish(req.complete);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
    req.resume();
  });
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, 'PAYLOAD_TOO_LARGE', `request body exceeds ${maxBytes} bytes`);
}
