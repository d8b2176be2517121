import { randomFillSync } from 'node:crypto';

/**
 * UUIDs written as text in one go. Every run and audit event gets one, and `crypto.randomUUID()`
 * builds its text from twenty short strings joined one by one: here the characters are written
 * into a buffer and read out as a single string, from a pool of random bytes filled a few
 * kilobytes at a time (the same source `randomUUID` draws from).
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

/** A UUID's text, dashes in place; one per kind of UUID, so a version 7 keeps its time between calls. */
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

/**
 * Writes random bytes into bytes `from` to 15 of the UUID `text` (8 at least, for the variant):
 * byte 8 carries the RFC 9562 variant, and byte 6, when written, the version `version`.
 */
function writeRandom(text: Buffer, from: number, version: number): void {
  if (next + 16 > POOL.length) {
    randomFillSync(POOL);
    next = 0;
  }
  for (let i = from; i < 16; i++) {
    let byte = POOL[next++]!;
    if (i === 6) byte = (byte & 0x0f) | (version << 4);
    else if (i === 8) byte = (byte & 0x3f) | 0x80;
    writeHex(text, OFFSETS[i]!, byte);
  }
}

const v4 = template();

/** A random UUID (version 4), as `crypto.randomUUID()` makes. */
export function randomUuid(): string {
  writeRandom(v4, 0, 4);
  return v4.toString('latin1');
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
  writeRandom(v7, 8, 7);
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
