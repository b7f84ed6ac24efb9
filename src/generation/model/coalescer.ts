import { TEXT_FLUSH_INTERVAL_MS, TEXT_FLUSH_MAX_BYTES } from "./tuning";

/** The timer the coalescer schedules its flushes with; tests pass a fake one. */
export interface CoalescerTimer {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimer: CoalescerTimer = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface TextCoalescerOptions {
  /** Receives each batch, in order; an async flush is awaited before the next one starts. */
  flush: (text: string) => void | Promise<void>;
  /** 0 flushes every delta at once (no coalescing). */
  intervalMs?: number;
  maxBytes?: number;
  timer?: CoalescerTimer;
}

export interface TextCoalescer {
  /** Adds a delta; it is flushed within `intervalMs`, or at once when the batch would exceed `maxBytes`. */
  push(delta: string): void;
  /** Flushes what is left and resolves when every flush has finished (rejects with the first flush error). Later calls are no-ops. */
  end(): Promise<void>;
  /** Drops what is buffered without flushing (the attempt is abandoned, e.g. cancelled). */
  discard(): void;
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } // a surrogate pair is one 4-byte code point
    else bytes += 3;
  }
  return bytes;
}

/**
 * Batches a model's text deltas so a run publishes ~20 events a second instead of one per token.
 * Framework-free: the caller decides what a flush does (publish a progress event, append to a log).
 */
export function createTextCoalescer(options: TextCoalescerOptions): TextCoalescer {
  const intervalMs = options.intervalMs ?? TEXT_FLUSH_INTERVAL_MS;
  const maxBytes = options.maxBytes ?? TEXT_FLUSH_MAX_BYTES;
  const timer = options.timer ?? realTimer;
  let buffer: string[] = [];
  let bufferedBytes = 0;
  let pending: unknown = undefined;
  let ended = false;
  let failure: { error: unknown } | undefined;
  // Batches waiting for an async flush to finish; a synchronous flush runs inline, so batches can never reorder.
  const queue: string[] = [];
  let draining: Promise<void> | undefined;

  function cancelTimer(): void {
    if (pending !== undefined) timer.clear(pending);
    pending = undefined;
  }

  function drain(): void {
    while (draining === undefined && failure === undefined) {
      const text = queue.shift();
      if (text === undefined) return;
      try {
        const result = options.flush(text);
        if (result instanceof Promise) {
          draining = result.then(
            () => {
              draining = undefined;
              drain();
            },
            (error: unknown) => {
              draining = undefined;
              failure = { error };
            },
          );
        }
      } catch (error) {
        failure = { error };
      }
    }
  }

  function flushNow(): void {
    cancelTimer();
    if (buffer.length === 0) return;
    const text = buffer.join("");
    buffer = [];
    bufferedBytes = 0;
    queue.push(text);
    drain();
  }

  async function settled(): Promise<void> {
    while (draining !== undefined) await draining;
  }

  return {
    push(delta) {
      if (ended || delta.length === 0) return;
      const bytes = utf8Length(delta);
      if (bufferedBytes > 0 && bufferedBytes + bytes > maxBytes) flushNow();
      buffer.push(delta);
      bufferedBytes += bytes;
      // intervalMs 0: no coalescing, every delta is its own batch (LLM_STREAM_FLUSH_MS=0).
      if (bufferedBytes >= maxBytes || intervalMs === 0) flushNow();
      else if (pending === undefined)
        pending = timer.set(() => {
          pending = undefined;
          flushNow();
        }, intervalMs);
    },
    async end() {
      if (ended) return settled();
      ended = true;
      flushNow();
      await settled();
      if (failure !== undefined) throw failure.error;
    },
    discard() {
      ended = true;
      cancelTimer();
      buffer = [];
      bufferedBytes = 0;
    },
  };
}
