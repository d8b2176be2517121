import type { Writable } from 'node:stream';
import type { DeliveryRouter } from '@symbi/core';
import type { ChannelRouter } from '@symbi/delivery';

/** A custom delivery channel that appends each run as one JSON line to `file`. */
export declare function jsonLinesChannel(file: string): DeliveryRouter;

/** The built-in channels plus `jsonl` writing to `file`. */
export declare function createRouter(options: { file: string; stdout?: Writable }): ChannelRouter;
