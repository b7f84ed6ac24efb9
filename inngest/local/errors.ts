import type { SerializedError } from "./types";

/** Normalise whatever the SDK (or a broken app) sent as an error into `{ name, message, stack }`. */
export function toSerializedError(value: unknown, fallbackMessage = "Unknown error"): SerializedError {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (typeof value === "string") return { name: "Error", message: value || fallbackMessage };
  if (typeof value === "object" && value !== null) {
    const v = value as Record<string, unknown>;
    const message = typeof v.message === "string" ? v.message : typeof v.error === "string" ? v.error : fallbackMessage;
    const result: SerializedError = { name: typeof v.name === "string" && v.name ? v.name : "Error", message };
    if (typeof v.stack === "string") result.stack = v.stack;
    return result;
  }
  return { name: "Error", message: fallbackMessage };
}

/** True when fetch failed before any HTTP answer (connection refused or reset: the app is down). */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === "AbortError" || err.name === "TimeoutError") return false;
  return err instanceof TypeError || /ECONNREFUSED|ECONNRESET|EPIPE|socket hang up|other side closed/.test(causeText(err));
}

/** The cause's message when there is one (undici puts the socket error there), else the error's own. */
function causeText(err: Error): string {
  const cause: unknown = err.cause;
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return typeof cause === "string" ? cause : err.message;
}

export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.message}${cause}`;
}
