import { z } from "zod";

/**
 * Ids, generated and accepted. Browser-safe (the stream URL builder and the client use the rule).
 *
 * Generated: sortable, URL-safe ids, 10 chars of time and 12 of randomness (base32 Crockford,
 * lower-case). Accepted: the one rule every id in a request or a path must follow (projects,
 * messages, runs; run ids come from the job engine, e.g. upper-case ULIDs). It is what ids need to
 * be to sit unescaped in a URL path, a Redis key and a log line, and every id this app or its job
 * engine makes satisfies it.
 */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const idSchema = z.string().regex(ID_PATTERN, "must be an id of 1-64 letters, digits, '-' or '_'");

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

export function newId(now: number = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  // Web Crypto (a CSPRNG in Node and browsers alike), so this module has no node: import.
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  let rand = "";
  for (const b of bytes) rand += ALPHABET[b % 32];
  return time + rand;
}
