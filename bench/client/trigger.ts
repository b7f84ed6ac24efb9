import type { Target } from "./sse-connection";

export interface TriggerBody {
  count: number;
  payloadBytes: number;
  tag: string;
  ratePerSec?: number;
}

/** What both servers answer: events published and the time spent inside publish (incl. the fan-out writes). */
export interface TriggerResult {
  published: number;
  publishMs: number;
  maxPublishMs: number;
}

/** Asks a server to publish (same route on both); resolves when it has published them all. */
export async function trigger(target: Target, projectId: string, body: TriggerBody): Promise<TriggerResult> {
  const res = await fetch(`http://${target.host}:${target.port}/api/test/projects/${projectId}/publish`, {
    method: "POST",
    // The app serves its test controls only with the run's token (bench/servers.ts); the baseline ignores it.
    headers: { "content-type": "application/json", "x-genstream-test-token": process.env.GENSTREAM_TEST_CONTROLS_TOKEN ?? "" },
    body: JSON.stringify(body),
  }).catch((err: unknown) => {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
    throw new Error(`publish trigger request failed${cause}`, { cause: err });
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`publish trigger answered ${res.status}: ${text.slice(0, 200)}`);
  const r = JSON.parse(text) as Partial<Record<keyof TriggerResult, unknown>>;
  return {
    published: Number(r.published ?? 0),
    publishMs: Number(r.publishMs ?? Number.NaN),
    maxPublishMs: Number(r.maxPublishMs ?? Number.NaN),
  };
}
