import { describe, expect, it } from 'vitest';
import { CappedOutput } from '../src/capped-output.js';

const push = (output: CappedOutput, ...parts: string[]) => {
  for (const part of parts) output.push(Buffer.from(part, 'utf8'));
  return output;
};

describe('CappedOutput', () => {
  it('keeps everything under the limit', () => {
    const output = push(new CappedOutput(10, 'head'), 'abc', 'def');
    expect(output.text()).toBe('abcdef');
    expect(output.truncated).toBe(false);
    expect(output.totalBytes).toBe(6);
  });

  it('keeps the head across chunks and never half a character', () => {
    // 'é' is two bytes: a limit of 5 would cut the third one in half.
    const output = push(new CappedOutput(5, 'head'), 'éé', 'éé');
    expect(output.text()).toBe('éé');
    expect(output.truncated).toBe(true);
    expect(output.totalBytes).toBe(8);
    expect(output.droppedBytes).toBe(4);
  });

  it('keeps the tail across chunks and never half a character', () => {
    // '€' is three bytes: the last 6 bytes start inside the first '€', which is dropped whole.
    const output = push(new CappedOutput(6, 'tail'), 'aaaa', '€€', 'b');
    expect(output.text()).toBe('€b');
    expect(output.truncated).toBe(true);
    expect(output.droppedBytes).toBe(7);
  });

  it('drops whole chunks from the front of a tail without losing the last limit bytes', () => {
    const output = new CappedOutput(4, 'tail');
    for (let i = 0; i < 100; i++) output.push(Buffer.from(String(i % 10)));
    expect(output.text()).toBe('6789');
    expect(output.totalBytes).toBe(100);
  });
});
