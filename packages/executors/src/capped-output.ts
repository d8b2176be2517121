/**
 * Collects a byte stream up to a limit, keeping either its beginning (`head`) or its end
 * (`tail`), and counts what it dropped. Text is cut on UTF-8 character boundaries so a cut never
 * leaves half a character behind.
 */
export class CappedOutput {
  readonly #limit: number;
  readonly #keep: 'head' | 'tail';
  #chunks: Buffer[] = [];
  #kept = 0;
  #total = 0;

  constructor(limit: number, keep: 'head' | 'tail') {
    this.#limit = limit;
    this.#keep = keep;
  }

  /** Adds a chunk of the stream. */
  push(chunk: Buffer): void {
    this.#total += chunk.length;
    if (this.#keep === 'head') {
      const room = this.#limit - this.#kept;
      if (room <= 0) return;
      const taken = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.#chunks.push(taken);
      this.#kept += taken.length;
      return;
    }
    this.#chunks.push(chunk);
    this.#kept += chunk.length;
    // Whole chunks only; the exact cut happens once, in text().
    while (this.#chunks.length > 1 && this.#kept - this.#chunks[0]!.length >= this.#limit) {
      this.#kept -= this.#chunks.shift()!.length;
    }
  }

  /** Bytes seen in total. */
  get totalBytes(): number {
    return this.#total;
  }

  /** Whether bytes were dropped. */
  get truncated(): boolean {
    return this.#total > this.#limit;
  }

  /** Bytes left out of {@link CappedOutput.text}. */
  get droppedBytes(): number {
    return this.#total - this.#keptBytes().length;
  }

  /** The kept bytes, decoded as UTF-8. */
  text(): string {
    return this.#keptBytes().toString('utf8');
  }

  #keptBytes(): Buffer {
    let bytes = Buffer.concat(this.#chunks);
    if (this.#keep === 'tail' && bytes.length > this.#limit) bytes = bytes.subarray(bytes.length - this.#limit);
    if (!this.truncated) return bytes;
    return this.#keep === 'head' ? withoutPartialLastChar(bytes) : withoutPartialFirstChar(bytes);
  }
}

function withoutPartialLastChar(bytes: Buffer): Buffer {
  let start = bytes.length - 1;
  while (start > 0 && isContinuationByte(bytes[start]!)) start--;
  if (start < 0) return bytes;
  const needed = sequenceLength(bytes[start]!);
  return bytes.length - start < needed ? bytes.subarray(0, start) : bytes;
}

function withoutPartialFirstChar(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length && isContinuationByte(bytes[start]!)) start++;
  return bytes.subarray(start);
}

function isContinuationByte(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

function sequenceLength(lead: number): number {
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1;
}
