import { randomFillSync } from 'node:crypto';

/**
 * Time-ordered UUIDs written as text in one go. Every run and audit event gets one, and
 * `crypto.randomUUID()` builds its text from twenty short strings joined one by one: here the
 * characters are written into a buffer and read out as a single string, their random part from a
 * pool of random bytes filled a few kilobytes at a time (the same source `randomUUID` draws from).
 */

/** The two lowercase hex characters of each byte value, as character codes. */
const HEX = new Uint8Array(512);
for (let byte = 0; byte < 256; byte++) {
  HEX[2 * byte] = '0123456789abcdef'.charCodeAt(byte >> 4);
  HEX[2 * byte + 1] = '0123456789abcdef'.charCodeAt(byte & 15);
}

/** Random bytes, used from `next` on and filled again once used up. */
const POOL = new Uint8Array(4096);
let next = POOL.length;

/** Where the text of each of a UUID's 16 bytes starts (the dashes sit between the groups). */
const OFFSETS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/** A UUID's text, dashes in place, kept between calls so that its time is written only when it changes. */
function template(): Buffer {
  const text = Buffer.alloc(36, '0');
  for (const dash of [8, 13, 18, 23]) text[dash] = 0x2d;
  return text;
}

/** Writes `byte` as two hex characters at `at`. */
function writeHex(text: Buffer, at: number, byte: number): void {
  text[at] = HEX[2 * byte]!;
  text[at + 1] = HEX[2 * byte + 1]!;
}

/** Writes random bytes into bytes 8 to 15 of the UUID `text`; byte 8 carries the RFC 9562 variant. */
function writeRandomTail(text: Buffer): void {
  if (next + 8 > POOL.length) {
    randomFillSync(POOL);
    next = 0;
  }
  for (let i = 8; i < 16; i++) {
    const byte = POOL[next++]!;
    writeHex(text, OFFSETS[i]!, i === 8 ? (byte & 0x3f) | 0x80 : byte);
  }
}

const v7 = template();
let lastMs = 0;
let sequence = 0;

/**
 * A UUID version 7: time-ordered, so sorting by id sorts by creation (run history lists retries of
 * one fire in the order they were made), and unique across processes thanks to 62 random bits.
 * Within one millisecond a 12-bit sequence keeps the order; past 4096 ids it borrows the next
 * millisecond.
 */
export function timeOrderedId(): string {
  const now = Date.now();
  if (now > lastMs) {
    sequence = 0;
    writeTime(now);
  } else {
    sequence = (sequence + 1) & 0xfff;
    if (sequence === 0) writeTime(lastMs + 1);
  }
  // Byte 6 is the version (7) and the sequence's top 4 bits, byte 7 its low 8 bits.
  writeHex(v7, 14, 0x70 | (sequence >> 8));
  writeHex(v7, 16, sequence & 0xff);
  writeRandomTail(v7);
  return v7.toString('latin1');
}

/** Writes `ms` as the 48-bit time of {@link timeOrderedId}'s ids (bytes 0 to 5). */
function writeTime(ms: number): void {
  lastMs = ms;
  const high = Math.floor(ms / 0x1000000);
  const low = ms % 0x1000000;
  writeHex(v7, 0, (high >> 16) & 0xff);
  writeHex(v7, 2, (high >> 8) & 0xff);
  writeHex(v7, 4, high & 0xff);
  writeHex(v7, 6, (low >> 16) & 0xff);
  writeHex(v7, 9, (low >> 8) & 0xff);
  writeHex(v7, 11, low & 0xff);
}
