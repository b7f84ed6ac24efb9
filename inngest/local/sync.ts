import { z } from "zod";
import { describe, isConnectionError } from "./errors";
import { appRequestHeaders, checkResponseSignature, SIGNATURE_HEADER, unauthorizedHint } from "./signing";

/** What an app answers to an in-band sync (inngest 4.24.0 `inBandRegisterBody`). */
const inBandBodySchema = z.looseObject({
  app_id: z.string().min(1),
  functions: z.array(z.unknown()),
  url: z.string().optional(),
});

/** What the SDK POSTs to /fn/register when it syncs out of band (`registerBody`). */
export const registerBodySchema = z.looseObject({
  url: z.string().min(1),
  appName: z.string().min(1),
  functions: z.array(z.unknown()),
});

export type SyncAttempt =
  /** `responseSigned`: the app signed its answer (it verified our signature, i.e. cloud mode). */
  | { kind: "synced"; appId: string; functions: unknown[]; responseSigned: boolean }
  /** The app refused in-band sync and registered through POST /fn/register instead. */
  | { kind: "out-of-band"; message: string }
  | { kind: "unreachable"; error: string }
  | { kind: "failed"; error: string };

/**
 * `PUT <appUrl>` with `x-inngest-sync-kind: in_band` and exactly `{ url }` (the SDK's schema
 * is strict). Dev mode needs no signature; with `signingKey` the request is signed and a signed
 * answer is verified.
 */
export async function requestInBandSync(appUrl: string, timeoutMs: number, signingKey?: string): Promise<SyncAttempt> {
  let res: Response;
  let text: string;
  const body = JSON.stringify({ url: appUrl });
  try {
    res = await fetch(appUrl, {
      method: "PUT",
      headers: { ...appRequestHeaders(body, signingKey), "x-inngest-sync-kind": "in_band" },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    return isConnectionError(err) ? { kind: "unreachable", error: describe(err) } : { kind: "failed", error: describe(err) };
  }
  if (res.status === 502 || res.status === 503 || res.status === 504) {
    return { kind: "unreachable", error: `HTTP ${res.status} from ${appUrl}` };
  }
  const signature = signingKey === undefined ? undefined : checkResponseSignature(res.headers.get(SIGNATURE_HEADER), text, signingKey);
  if (signature?.kind === "invalid")
    return { kind: "failed", error: `the app's sync answer has an invalid signature: ${signature.reason}` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: "failed", error: `HTTP ${res.status} from ${appUrl} is not JSON: ${text.slice(0, 200)}` };
  }
  if (res.headers.get("x-inngest-sync-kind") === "out_of_band") {
    const message = z.looseObject({ message: z.string().optional() }).safeParse(json);
    const text = message.success ? (message.data.message ?? "") : "";
    if (res.status >= 400) return { kind: "failed", error: `out-of-band sync failed: ${text}` };
    return { kind: "out-of-band", message: text };
  }
  if (res.status === 401)
    return { kind: "failed", error: `HTTP 401 from ${appUrl}: ${text.slice(0, 200)} (${unauthorizedHint(signingKey !== undefined)})` };
  if (res.status !== 200) return { kind: "failed", error: `HTTP ${res.status} from ${appUrl}: ${text.slice(0, 300)}` };
  const answer = inBandBodySchema.safeParse(json);
  if (!answer.success) return { kind: "failed", error: `not an Inngest in-band sync answer: ${z.prettifyError(answer.error)}` };
  return { kind: "synced", appId: answer.data.app_id, functions: answer.data.functions, responseSigned: signature?.kind === "valid" };
}
