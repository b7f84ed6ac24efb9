import { z } from "zod";
import { isConnectionError } from "./errors";
import { EXECUTOR_KIND } from "./executor";

export type PortState = "free" | "ours" | "other";

/** Who (if anyone) answers on the port: nobody, one of our executors, or something else. */
export async function probePort(host: string, port: number, timeoutMs = 1_500): Promise<PortState> {
  const shownHost = host.includes(":") ? `[${host}]` : host;
  try {
    const res = await fetch(`http://${shownHost}:${port}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = z.looseObject({ kind: z.string() }).safeParse(await res.json().catch(() => null));
    return body.success && body.data.kind === EXECUTOR_KIND ? "ours" : "other";
  } catch (err) {
    return isConnectionError(err) ? "free" : "other";
  }
}
