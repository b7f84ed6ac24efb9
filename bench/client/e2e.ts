import type { Account } from "../lib/accounts";
import { createProject, trpcMutation } from "../lib/trpc";
import { completion } from "./deadline";
import { SseConnection, type Target } from "./sse-connection";

export interface E2eResult {
  /** `message.send` called to the `run.started` frame received on the same stream. */
  runStartedMs: number[];
  /** The mutation's own round trip. */
  mutationMs: number[];
  /** `message.send` called to the run's terminal frame, when awaited. */
  runMs: number[];
  terminal: Record<string, number>;
  failures: string[];
}

const wallClock = (): number => performance.timeOrigin + performance.now();
const TERMINAL = new Set(["run.completed", "run.failed", "run.cancelled"]);

/**
 * The real path, as the browser does it: a fresh project, its stream up to `ready`, then
 * `message.send` with that connectionId; the embedded executor runs the job and its first step
 * publishes `run.started`. With `awaitRun`, the next send waits for the run to finish so runs do
 * not overlap.
 */
export async function measureE2e(
  baseUrl: string,
  target: Target,
  accounts: Account[],
  sendsPerAccount: number,
  sends: number,
  content: string,
  awaitRun: boolean,
  deadlineMs: number,
): Promise<E2eResult> {
  const result: E2eResult = { runStartedMs: [], mutationMs: [], runMs: [], terminal: {}, failures: [] };
  for (let i = 0; i < sends; i++) {
    const account = accounts[Math.floor(i / sendsPerAccount)];
    if (!account) throw new Error(`no account for send ${i}: ${accounts.length} accounts x ${sendsPerAccount} sends`);
    const projectId = await createProject(baseUrl, `bench e2e ${i}`, account);
    const conn = new SseConnection(projectId, account.cookie, target);
    try {
      await conn.ready;
      const started = completion(deadlineMs);
      const ended = completion(deadlineMs);
      let startedAt = 0;
      let endedAt = 0;
      conn.onFrame = (_c, event, _data, at) => {
        if (event === "run.started" && startedAt === 0) {
          startedAt = at;
          started.done();
        } else if (TERMINAL.has(event) && endedAt === 0) {
          endedAt = at;
          result.terminal[event] = (result.terminal[event] ?? 0) + 1;
          ended.done();
        }
      };
      const t0 = wallClock();
      await trpcMutation(baseUrl, "message.send", { projectId, content, connectionId: conn.connectionId }, account);
      result.mutationMs.push(wallClock() - t0);
      started.arm();
      if ((await started.promise).timedOut) throw new Error(`no run.started within ${deadlineMs} ms`);
      result.runStartedMs.push(startedAt - t0);
      if (awaitRun) {
        ended.arm();
        if ((await ended.promise).timedOut) throw new Error(`run did not finish within ${deadlineMs} ms`);
        result.runMs.push(endedAt - t0);
      }
    } catch (err) {
      result.failures.push(err instanceof Error ? err.message : String(err));
    } finally {
      conn.close();
    }
  }
  return result;
}
