/** Duration strings as the SDK writes them ("1m30s", "2h", "500ms") and sleep targets. */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/** Milliseconds in a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const source = text.trim();
  if (source === "") return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let match: RegExpExecArray | null;
  while ((match = PART.exec(source)) !== null) {
    const amount = Number(match[1]);
    const unit = UNIT_MS[match[2] ?? ""];
    if (unit === undefined) return undefined;
    total += amount * unit;
    if (PART.lastIndex === source.length) return total;
  }
  return undefined;
}

/**
 * How long a `Sleep` op waits: its name is a duration for step.sleep, an ISO date for
 * step.sleepUntil. Past dates wait 0.
 */
export function sleepDelayMs(name: string, now: number = Date.now()): number | undefined {
  const duration = parseDuration(name);
  if (duration !== undefined) return duration;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(name)) return undefined;
  const at = Date.parse(name);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** The SDK's `retry-after` header: whole seconds, or an ISO date (RetryAfterError). */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null || header === "") return undefined;
  if (/^\d+$/.test(header)) return Number(header) * 1_000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
