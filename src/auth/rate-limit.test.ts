/**
 * The sign-in rate limit across instances: two app instances (two processes, each with its own
 * Better Auth) on one PostgreSQL allow `authAttemptsPerMinute` attempts per client IP in total,
 * and restarting an instance does not reset the count. Per-process storage would allow 2x.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { limits } from "../server/limits";
import { TEST_DATABASE_URL } from "../test/services";

const ORIGIN = "http://127.0.0.1:3000";
const children: ChildProcess[] = [];

/** Starts an instance and resolves with its port once it prints it (its listening handshake). */
function startInstance(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/test/auth-process.ts", TEST_DATABASE_URL], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`auth instance exited (${code}) before listening`)));
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const port = (JSON.parse(line) as { port?: unknown }).port;
      if (typeof port === "number") resolve({ port, child });
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/**
 * A sign-in attempt from `ip` with an empty form: 400 while under the limit, 429 past it. The limiter
 * counts it before the body is read, like a wrong password, without the password hash's second of CPU.
 */
async function attempt(port: number, ip: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: ORIGIN, "x-forwarded-for": ip },
    body: "{}",
  });
  await res.arrayBuffer();
  return res.status;
}

afterAll(async () => {
  await Promise.all(children.map(stop));
});

describe("sign-in rate limit shared by instances (PostgreSQL)", () => {
  it(`allows ${limits.authAttemptsPerMinute} attempts per IP per minute over two instances, and a restart keeps the count`, async () => {
    const [a, b] = await Promise.all([startInstance(), startInstance()]);
    // A fresh address per run: the counters live in the shared database, not in these processes.
    const ip = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`;
    const statuses: number[] = [];
    for (let i = 0; i < limits.authAttemptsPerMinute; i++) statuses.push(await attempt(i % 2 === 0 ? a.port : b.port, ip));
    expect(statuses).toEqual(Array.from({ length: limits.authAttemptsPerMinute }, () => 400));
    expect(await attempt(a.port, ip)).toBe(429);
    expect(await attempt(b.port, ip)).toBe(429);
    // Another client is not affected.
    expect(await attempt(b.port, "10.255.255.254")).not.toBe(429);

    await stop(a.child);
    const restarted = await startInstance();
    expect(await attempt(restarted.port, ip)).toBe(429);
  }, 180_000);
});
