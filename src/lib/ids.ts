import { randomBytes } from "node:crypto";

/** Sortable, URL-safe ids: 10 chars of time, 12 of randomness (base32 Crockford, lower-case). */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

export function newId(now: number = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(12);
  let rand = "";
  for (const b of bytes) rand += ALPHABET[b % 32];
  return time + rand;
}
