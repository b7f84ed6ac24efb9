import { randomBytes } from "node:crypto";

/** Crockford base32, as in the ULID spec (run and event ids sort by creation time). */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

let lastTime = -1;
let lastRandom: number[] = [];

function randomDigits(): number[] {
  return Array.from(randomBytes(16), (b) => b % 32);
}

/** Increment the 16 random digits; ids minted in the same millisecond still sort in order. */
function increment(digits: number[]): number[] {
  const next = [...digits];
  for (let i = next.length - 1; i >= 0; i--) {
    const d = next[i] ?? 0;
    if (d < 31) {
      next[i] = d + 1;
      return next;
    }
    next[i] = 0;
  }
  return randomDigits();
}

/** A 26-character ULID: 10 digits of milliseconds, 16 random digits, monotonic per process. */
export function ulid(now: number = Date.now()): string {
  if (now <= lastTime) {
    lastRandom = increment(lastRandom);
  } else {
    lastTime = now;
    lastRandom = randomDigits();
  }
  let time = "";
  let t = Math.max(now, lastTime);
  for (let i = 0; i < 10; i++) {
    time = ALPHABET.charAt(t % 32) + time;
    t = Math.floor(t / 32);
  }
  return time + lastRandom.map((d) => ALPHABET.charAt(d)).join("");
}

/** The milliseconds a ULID was minted at (its first 10 digits). */
export function ulidTime(id: string): number {
  let t = 0;
  for (const char of id.slice(0, 10).toUpperCase()) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) throw new Error(`not a ULID: ${id}`);
    t = t * 32 + digit;
  }
  return t;
}
