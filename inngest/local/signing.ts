import { createHmac, timingSafeEqual } from "node:crypto";
import { canonicalJson } from "./canonical-json";

/**
 * Request signing as inngest 4.24.0 verifies it (`RequestSignature`, `signDataWithKey`):
 * `x-inngest-signature: t=<unix seconds>&s=<hex HMAC-SHA256>`, keyed with the UTF-8 bytes of the
 * signing key minus its `signkey-<env>-` prefix, over the RFC 8785 form of the parsed request
 * body followed by `t`. Older or newer than 5 minutes is rejected. Responses are signed the same
 * way but over the raw response body text.
 */
export const SIGNATURE_HEADER = "x-inngest-signature";
export const SIGNATURE_MAX_SKEW_MS = 5 * 60_000;

export function stripSigningKeyPrefix(signingKey: string): string {
  return signingKey.replace(/^signkey-\w+-/, "");
}

/** What the SDK feeds the HMAC for a request body: "" if empty, a JSON string as is, else JCS. */
export function signedRequestForm(bodyText: string): string {
  if (bodyText === "") return "";
  const parsed: unknown = JSON.parse(bodyText);
  return typeof parsed === "string" ? parsed : canonicalJson(parsed);
}

export function hmacHex(data: string, signingKey: string, timestamp: string): string {
  return createHmac("sha256", stripSigningKeyPrefix(signingKey))
    .update(data + timestamp)
    .digest("hex");
}

/** The `x-inngest-signature` value for a request whose body is `bodyText`. */
export function signRequest(bodyText: string, signingKey: string, nowMs = Date.now()): string {
  const t = Math.floor(nowMs / 1000).toString();
  return `t=${t}&s=${hmacHex(signedRequestForm(bodyText), signingKey, t)}`;
}

/** Headers for a request from the executor to the app: signed iff a key is configured. */
export function appRequestHeaders(bodyText: string, signingKey: string | undefined): Record<string, string> {
  if (signingKey === undefined) return { "content-type": "application/json", "x-inngest-server-kind": "dev" };
  return {
    "content-type": "application/json",
    "x-inngest-server-kind": "cloud",
    [SIGNATURE_HEADER]: signRequest(bodyText, signingKey),
  };
}

export type ResponseSignature = { kind: "unsigned" } | { kind: "valid" } | { kind: "invalid"; reason: string };

/**
 * Check the signature an app put on its answer (over the raw body). An app in dev mode, or one
 * answering 401, signs nothing; that is reported as "unsigned", not as invalid.
 */
export function checkResponseSignature(header: string | null, bodyText: string, signingKey: string, nowMs = Date.now()): ResponseSignature {
  if (header === null) return { kind: "unsigned" };
  const params = new URLSearchParams(header);
  const t = params.get("t") ?? "";
  const s = params.get("s") ?? "";
  if (!t || !s) return { kind: "invalid", reason: `malformed ${SIGNATURE_HEADER} "${header}"` };
  const ts = Number.parseInt(t, 10);
  if (!Number.isFinite(ts) || Math.abs(nowMs - ts * 1000) > SIGNATURE_MAX_SKEW_MS)
    return { kind: "invalid", reason: `timestamp ${t} is outside 5 minutes` };
  const expected = Buffer.from(hmacHex(bodyText, signingKey, t));
  const actual = Buffer.from(s);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual))
    return { kind: "invalid", reason: "HMAC does not match the signing key" };
  return { kind: "valid" };
}

/** Why an app answered 401, in words an operator can act on. */
export function unauthorizedHint(signed: boolean): string {
  return signed
    ? "the app rejected the request signature (401): the executor's INNGEST_SIGNING_KEY is not the app's signing key"
    : "the app requires signed requests (401, it is in cloud mode): give the executor the app's INNGEST_SIGNING_KEY, or run the app with INNGEST_DEV=1";
}
