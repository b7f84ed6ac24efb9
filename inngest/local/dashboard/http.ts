import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { log } from "../../../src/lib/process-log";
import { ingestEventSchema } from "../ingest-schema";
import { hostProblem, sameOriginProblem, type AccessGuard, type DashboardDecision } from "./access";
import type { DashboardApi } from "./api";
import { clientBundle } from "./assets";
import { fetchRunProgress } from "./progress";
import { DashboardLive } from "./live";
import { DASHBOARD_CSS } from "./styles";

/** What a handler gets from the executor's HTTP layer. */
export interface HttpTools {
  send: (res: ServerResponse, status: number, body: unknown) => void;
  readJson: (req: IncomingMessage) => Promise<unknown>;
}

const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Genstream engine</title>
<link rel="stylesheet" href="/dashboard/assets/app.css">
<script type="module" src="/dashboard/assets/app.js"></script>
</head>
<body><div id="root"></div></body>
</html>
`;

const signInSchema = z.strictObject({ key: z.string().min(1, "enter the signing key") });
const sendEventSchema = z.strictObject({ event: ingestEventSchema });
const runIdSchema = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "run id must be a ULID");

/**
 * The dashboard on the executor's port: the HTML shell and React bundle at /dashboard, its stream
 * and actions under /dashboard/api. Off (a 404 naming the reason) when the decision says so.
 */
export class DashboardHttp {
  private readonly live: DashboardLive | undefined;

  constructor(
    private readonly api: DashboardApi,
    private readonly decision: DashboardDecision,
    private readonly guard: AccessGuard,
    private readonly tools: HttpTools,
    /** Sent to the app to read a run's progress events: the signing key, else the development token. */
    private readonly appReadKey: string | undefined,
  ) {
    this.live = decision.on ? new DashboardLive(api, decision.auth) : undefined;
  }

  close(): void {
    this.live?.close();
  }

  /** Handles `/` and `/dashboard*`; false for every other path. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname;
    const method = req.method ?? "GET";
    if (path === "/" && method === "GET") {
      res.writeHead(302, { location: "/dashboard" }).end();
      return true;
    }
    if (path !== "/dashboard" && !path.startsWith("/dashboard/")) return false;
    const { send } = this.tools;
    if (!this.decision.on || !this.live) {
      send(res, 404, { status: 404, error: `dashboard off: ${this.decision.on ? "not started" : this.decision.reason}` });
      return true;
    }
    const badHost = hostProblem(req, this.guard);
    if (badHost) {
      send(res, 403, { status: 403, error: badHost });
      return true;
    }
    if (path === "/dashboard/assets/app.js" && method === "GET") {
      const bundle = await clientBundle();
      if (!bundle.ok) send(res, 503, { status: 503, error: bundle.reason });
      else
        res
          .writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache", ...SECURITY_HEADERS })
          .end(bundle.js);
      return true;
    }
    if (path === "/dashboard/assets/app.css" && method === "GET") {
      res
        .writeHead(200, { "content-type": "text/css; charset=utf-8", "cache-control": "no-cache", ...SECURITY_HEADERS })
        .end(DASHBOARD_CSS);
      return true;
    }
    if (path.startsWith("/dashboard/api/")) {
      await this.serveApi(req, res, path.slice("/dashboard/api/".length).split("/").map(decodeURIComponent), method);
      return true;
    }
    if (method !== "GET") {
      send(res, 405, { status: 405, error: "use GET" });
      return true;
    }
    // Every other /dashboard path is a page of the client's router.
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache", ...SECURITY_HEADERS }).end(SHELL);
    return true;
  }

  private async serveApi(req: IncomingMessage, res: ServerResponse, parts: string[], method: string): Promise<void> {
    const { send, readJson } = this.tools;
    const [a, b, c] = parts;
    const crossSite = sameOriginProblem(req, method);
    if (crossSite) return send(res, 403, { status: 403, error: crossSite });

    if (a === "session" && parts.length === 1 && method === "GET") {
      return send(res, 200, { auth: this.guard.required ? "signing-key" : "none", signedIn: this.guard.allows(req) });
    }
    if (a === "sign-in" && parts.length === 1 && method === "POST") {
      const body = signInSchema.safeParse(await readJson(req));
      if (!body.success) return send(res, 400, { status: 400, error: z.prettifyError(body.error) });
      const cookie = this.guard.signIn(body.data.key);
      if (!cookie) {
        log.warn({ ip: req.socket.remoteAddress }, "dashboard sign-in refused");
        return send(res, 401, { status: 401, error: "that is not this executor's signing key" });
      }
      res.setHeader("set-cookie", cookie);
      return send(res, 200, { signedIn: true });
    }
    if (!this.guard.allows(req)) return send(res, 401, { status: 401, error: "sign in with the signing key (INNGEST_SIGNING_KEY)" });

    if (a === "stream" && parts.length === 1 && method === "GET") {
      this.live?.open(res);
      return;
    }
    if (a === "runs" && b && c === "progress" && parts.length === 3 && method === "GET") {
      const runId = runIdSchema.safeParse(b);
      if (!runId.success) return send(res, 400, { status: 400, error: z.prettifyError(runId.error) });
      if (!this.api.getRun(runId.data)) return send(res, 404, { status: 404, error: `no run ${runId.data}` });
      return send(res, 200, await fetchRunProgress(this.api.health().appUrl, this.appReadKey, runId.data));
    }
    if (a === "runs" && b && (c === "cancel" || c === "rerun") && parts.length === 3 && method === "POST") {
      const runId = runIdSchema.safeParse(b);
      if (!runId.success) return send(res, 400, { status: 400, error: z.prettifyError(runId.error) });
      const run = this.api.getRun(runId.data);
      if (!run) return send(res, 404, { status: 404, error: `no run ${runId.data}` });
      if (c === "cancel") {
        if (!this.api.cancelRun(runId.data))
          return send(res, 409, { status: 409, error: `run ${runId.data} has already ended (${run.status})` });
        log.info({ runId: runId.data, functionId: run.functionId }, "run cancelled from the dashboard");
        return send(res, 200, { runId: runId.data });
      }
      const newRunId = await this.api.rerun(runId.data);
      if (!newRunId) return send(res, 409, { status: 409, error: `function ${run.functionId} is no longer synced` });
      return send(res, 200, { runId: newRunId });
    }
    if (a === "events" && parts.length === 1 && method === "POST") {
      const body = sendEventSchema.safeParse(await readJson(req));
      if (!body.success) return send(res, 400, { status: 400, error: z.prettifyError(body.error) });
      const ids = this.api.ingest([body.data.event]);
      log.info({ name: body.data.event.name, ids }, "test event sent from the dashboard");
      return send(res, 200, { ids });
    }
    if (a === "events" && b && c === "replay" && parts.length === 3 && method === "POST") {
      const received = this.api.getEvent(b);
      if (!received) return send(res, 404, { status: 404, error: `no event ${b}` });
      // A copy under a new id and time: the original's id would be dropped as a duplicate.
      const { internalId: _internalId, id: _id, ts: _ts, ...copy } = received.event;
      const ids = this.api.ingest([copy]);
      log.info({ eventId: b, name: copy.name, ids }, "event replayed from the dashboard");
      return send(res, 200, { ids });
    }
    if (a === "sync" && parts.length === 1 && method === "POST") {
      const result = await this.api.sync("dashboard");
      return send(res, 200, { result });
    }
    send(res, 404, { status: 404, error: `no route ${method} /dashboard/api/${parts.join("/")}` });
  }
}
