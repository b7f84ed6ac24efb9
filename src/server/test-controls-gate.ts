import { timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { ServerEnv } from "../lib/env";

/**
 * Whether this process serves the test-only stream controls (`/api/test/*`: fault injection for the
 * end-to-end suite, load for `npm run bench`), and with which token.
 *
 * A real deployment never has them: GENSTREAM_TEST_CONTROLS defaults to off, and turning it on by
 * accident (a copied CI environment) cannot expose them in production, because NODE_ENV=production
 * refuses to start with them unless the run is explicitly a local test run:
 *   - GENSTREAM_TEST_CONTROLS_TOKEN is set (a random per-run secret, at least 32 characters), and
 *     every control request must carry it in `x-genstream-test-token`; without it the controls do
 *     not exist (the request falls through to the app, which answers 404);
 *   - the server listens on a loopback address only (HOSTNAME 127.0.0.1, ::1 or localhost), so no
 *     other machine can reach them even with the token.
 * In development and tests the token is optional (enforced when set).
 */
export type TestControlsGate = { enabled: false } | { enabled: true; token: string | null };

export const TEST_CONTROLS_TOKEN_HEADER = "x-genstream-test-token";

export class TestControlsRefusedError extends Error {
  override readonly name = "TestControlsRefusedError";
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "::1", "[::1]", "localhost"]);

type GateEnv = Pick<ServerEnv, "NODE_ENV" | "HOSTNAME" | "GENSTREAM_TEST_CONTROLS" | "GENSTREAM_TEST_CONTROLS_TOKEN">;

export function resolveTestControls(e: GateEnv): TestControlsGate {
  if (e.GENSTREAM_TEST_CONTROLS !== "1") return { enabled: false };
  const token = e.GENSTREAM_TEST_CONTROLS_TOKEN ?? null;
  if (e.NODE_ENV !== "production") return { enabled: true, token };
  if (token === null) {
    throw new TestControlsRefusedError(
      "GENSTREAM_TEST_CONTROLS=1 is refused in production without GENSTREAM_TEST_CONTROLS_TOKEN: the test-only controls exist only in a local test run (end-to-end suite, benchmark), which sets a random per-run token. Unset GENSTREAM_TEST_CONTROLS in a deployment.",
    );
  }
  if (!LOOPBACK_HOSTS.has(e.HOSTNAME)) {
    throw new TestControlsRefusedError(
      `GENSTREAM_TEST_CONTROLS=1 is refused in production while listening on ${e.HOSTNAME}: the test-only controls are served only on a loopback address (HOSTNAME=127.0.0.1). Unset GENSTREAM_TEST_CONTROLS in a deployment.`,
    );
  }
  return { enabled: true, token };
}

/** Whether a request may use the controls: they are enabled and it carries the token (when one is set). */
export function mayUseTestControls(gate: TestControlsGate, headers: IncomingHttpHeaders): boolean {
  if (!gate.enabled) return false;
  if (gate.token === null) return true;
  const given = headers[TEST_CONTROLS_TOKEN_HEADER];
  if (typeof given !== "string") return false;
  const a = Buffer.from(given, "utf8");
  const b = Buffer.from(gate.token, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}
