import { existsSync } from "node:fs";
import type { E2eResult } from "../client/e2e";
import { summarize, type Summary } from "../lib/stats";
import { signUp } from "../lib/accounts";
import { startExecutor } from "../servers";
import type { PhaseContext } from "./context";

export const E2E_MESSAGE = "A shop API with items (name)";
/** Well under the app's messages-per-user-per-minute limit. */
const SENDS_PER_ACCOUNT = 10;

export type E2ePhaseResult =
  | {
      ran: true;
      sends: number;
      runStartedMs: Summary;
      mutationMs: Summary;
      runMs: Summary;
      terminal: Record<string, number>;
      failures: string[];
      raw: E2eResult;
    }
  | { ran: false; reason: string };

/**
 * send -> run.started through the real mutation and the embedded executor (started for this phase,
 * so it is idle during the stream phases). Each send waits for its run to end before the next one.
 */
export async function measureE2e(ctx: PhaseContext, appEnv: NodeJS.ProcessEnv): Promise<E2ePhaseResult> {
  if (!existsSync("inngest/local/main.ts"))
    return { ran: false, reason: "inngest/local/main.ts does not exist (embedded executor missing)" };
  const app = ctx.servers[1];
  const executor = await startExecutor(appEnv);
  try {
    const sends = ctx.sizes.e2e.sends;
    const baseUrl = `http://${app.target.host}:${app.target.port}`;
    const accounts = [];
    for (let i = 0; i * SENDS_PER_ACCOUNT < sends; i++) accounts.push(await signUp(baseUrl, `bench-e2e-${i}`));
    const raw = await app.client.call("e2e", {
      baseUrl,
      target: app.target,
      accounts,
      sendsPerAccount: SENDS_PER_ACCOUNT,
      sends,
      content: E2E_MESSAGE,
      awaitRun: true,
      deadlineMs: ctx.sizes.e2e.deadlineMs,
    });
    for (const f of raw.failures) ctx.problems.fail(`genstream: send -> run.started: ${f}`);
    const result: E2ePhaseResult = {
      ran: true,
      sends,
      runStartedMs: summarize(raw.runStartedMs),
      mutationMs: summarize(raw.mutationMs),
      runMs: summarize(raw.runMs),
      terminal: raw.terminal,
      failures: raw.failures,
      raw,
    };
    ctx.log(
      `  send -> run.started p50 ${result.runStartedMs.p50.toFixed(1)} ms, p95 ${result.runStartedMs.p95.toFixed(1)} ms (mutation p50 ${result.mutationMs.p50.toFixed(1)} ms; run p50 ${result.runMs.p50.toFixed(0)} ms; ${JSON.stringify(raw.terminal)})`,
    );
    return result;
  } finally {
    await executor.stop();
  }
}
