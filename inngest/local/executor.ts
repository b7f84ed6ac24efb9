import { EventEmitter } from "node:events";
import type { Server } from "node:http";
import { log } from "../../src/lib/process-log";
import { wireEvent } from "./app-client";
import { defaultBackoff, type BackoffPolicy } from "./backoff";
import { ConcurrencyGate, type Slot } from "./concurrency";
import type { DashboardDecision } from "./dashboard/access";
import { ExpiringSet } from "./dedupe";
import type { IngestEvent } from "./ingest-schema";
import { FunctionRegistry } from "./registry";
import { RunDriver, type EventWait, type RunHost } from "./run";
import { listenExecutorServer } from "./server";
import { SyncManager } from "./sync-manager";
import type { EventOutcome, FunctionDef, RunStatus, RunView, StepView, StoredEvent, SyncResult } from "./types";
import { ulid } from "./ulid";

export const EXECUTOR_KIND = "genstream-local-executor";
const DAY_MS = 86_400_000;

export interface LocalExecutorOptions {
  /** The app's serve() endpoint, e.g. http://127.0.0.1:3000/api/inngest. */
  appUrl: string;
  /** Port to listen on; 0 picks a free one. Default 8288 (the dev server's). */
  port?: number;
  host?: string;
  backoff?: Partial<BackoffPolicy>;
  /** Timeout of one call to the app (a step that runs longer is a failed attempt). */
  callTimeoutMs?: number;
  syncTimeoutMs?: number;
  /** An event no function listens to triggers a resync only if the last one is this old. */
  resyncMinIntervalMs?: number;
  /** Sync at start (with backoff until the app answers). Default true. */
  syncOnStart?: boolean;
  /** Finished runs kept for /v1/runs. */
  maxFinishedRuns?: number;
  /**
   * The app's signing key (`signkey-<env>-<hex>`): sign every request to the app as Inngest
   * Cloud does, so an app served in cloud mode (`isDev: false`) accepts them. Unsigned without.
   */
  signingKey?: string;
  /** Serve the dashboard on this port (inngest/local/dashboard); default off. */
  dashboard?: DashboardDecision;
}

export interface ExecutorEvents {
  sync: [SyncResult];
  "sync:failed": [{ error: string }];
  event: [EventOutcome];
  /** Waiting for a concurrency slot (at start, or again after a sleep or backoff). */
  "run:queued": [RunView];
  "run:started": [RunView];
  "run:finished": [RunView];
  step: [{ runId: string; step: StepView }];
  "app:unreachable": [{ runId: string; error: string }];
  /** A call to the app began or ended; `stepId` "step" is a discovery call. */
  call: [{ runId: string; stepId: string; phase: "start" | "end" }];
}

export interface RunFilter {
  functionId?: string;
  status?: RunStatus;
  eventId?: string;
}

export interface HealthView {
  ok: true;
  kind: typeof EXECUTOR_KIND;
  appUrl: string;
  /** Requests to the app carry `x-inngest-signature`. */
  signed: boolean;
  /** Signed mode: the app signed its last sync answer (it verifies signatures; false in dev mode). */
  appVerifiesSignatures: boolean | null;
  synced: boolean;
  functions: number;
  refused: { id: string; reasons: string[] }[];
  lastSyncAt: string | null;
  syncError: string | null;
  runs: { active: number; total: number };
}

interface PendingEvent {
  outcome: Promise<EventOutcome>;
  event: StoredEvent;
  receivedAt: string;
}

/** An ingested event as the dashboard and GET /v1/events read it. */
export interface ReceivedEvent {
  event: StoredEvent;
  receivedAt: string;
}

/**
 * The embedded Inngest executor: ingests events, syncs the app's functions, and drives runs
 * through the app's serve() endpoint. Everything lives in memory; it is a dev tool.
 */
export class LocalExecutor extends EventEmitter<ExecutorEvents> implements RunHost {
  readonly gate = new ConcurrencyGate();
  readonly backoff: BackoffPolicy;
  readonly callTimeoutMs: number;
  readonly appUrl: string;
  readonly signingKey: string | undefined;
  private readonly registry = new FunctionRegistry();
  private readonly syncs: SyncManager;
  private readonly runs = new Map<string, RunDriver>();
  private readonly events = new Map<string, PendingEvent>();
  private readonly seenEventIds = new ExpiringSet(DAY_MS);
  private readonly idempotencyKeys = new ExpiringSet(DAY_MS);
  private waits: EventWait[] = [];
  private chain: Promise<void> = Promise.resolve();
  private server: Server | undefined;
  private listenUrl: string | undefined;

  constructor(private readonly options: LocalExecutorOptions) {
    super();
    this.appUrl = options.appUrl;
    this.backoff = { ...defaultBackoff, ...options.backoff };
    this.callTimeoutMs = options.callTimeoutMs ?? 300_000;
    this.signingKey = options.signingKey || undefined;
    this.syncs = new SyncManager({
      appUrl: options.appUrl,
      registry: this.registry,
      backoff: this.backoff,
      timeoutMs: options.syncTimeoutMs ?? 30_000,
      signingKey: this.signingKey,
      onSynced: (result) => this.emit("sync", result),
      onFailed: (error) => this.emit("sync:failed", { error }),
    });
  }

  /** Listen and (by default) start syncing. Resolves with the executor's base URL. */
  async start(): Promise<string> {
    const { server, url } = await listenExecutorServer(this, this.options.port ?? 8288, this.options.host ?? "127.0.0.1", {
      signingKey: this.signingKey,
      dashboard: this.options.dashboard,
    });
    this.server = server;
    this.listenUrl = url;
    log.info({ url, appUrl: this.appUrl, signed: this.signingKey !== undefined }, "local executor listening");
    if (this.options.syncOnStart ?? true) this.syncs.startLoop();
    return url;
  }

  async stop(): Promise<void> {
    this.syncs.stop();
    for (const run of this.runs.values()) run.halt();
    const server = this.server;
    this.server = undefined;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    log.info({ url: this.listenUrl }, "local executor stopped");
  }

  get url(): string {
    if (!this.listenUrl) throw new Error("executor not started");
    return this.listenUrl;
  }

  /** One in-band sync attempt now. */
  sync(reason = "requested"): Promise<SyncResult> {
    return this.syncs.syncOnce(reason);
  }

  /** Resolves once a sync has reached the app (the result may still list refused functions). */
  waitForSync(): Promise<SyncResult> {
    return this.syncs.waitForSync();
  }

  /** Out-of-band registration (POST /fn/register), as the SDK does when in-band sync is off. */
  register(appId: string, functions: unknown[]): SyncResult {
    return this.syncs.applyOutOfBand(appId, functions);
  }

  /** Accept events (already validated); returns their ids at once, processing is in order. */
  ingest(inputs: IngestEvent[]): string[] {
    return inputs.map((input) => {
      const internalId = ulid();
      const event: StoredEvent = { ...input, internalId, id: input.id ?? internalId, ts: input.ts ?? Date.now(), data: input.data ?? {} };
      const outcome = new Promise<EventOutcome>((resolve) => {
        this.chain = this.chain.then(async () => {
          const result = await this.process(event).catch((err: unknown) => {
            log.error({ eventId: internalId, err }, "event processing failed");
            return { eventId: internalId, runIds: [], skipped: [{ reason: String(err) }] };
          });
          resolve(result);
          this.emit("event", result);
        });
      });
      this.events.set(internalId, { outcome, event, receivedAt: new Date().toISOString() });
      this.pruneEvents();
      return internalId;
    });
  }

  /** What an ingested event did: the runs it started and why it skipped others. */
  eventOutcome(eventId: string): Promise<EventOutcome> {
    const pending = this.events.get(eventId);
    return pending ? pending.outcome : Promise.reject(new Error(`unknown event ${eventId}`));
  }

  /** Every run the event started, once each has finished. */
  async runsOfEvent(eventId: string): Promise<RunView[]> {
    const outcome = await this.eventOutcome(eventId);
    return Promise.all(outcome.runIds.map((id) => this.waitForRun(id)));
  }

  waitForRun(runId: string): Promise<RunView> {
    const run = this.runs.get(runId);
    if (!run) return Promise.reject(new Error(`unknown run ${runId}`));
    if (run.finished) return Promise.resolve(run.view());
    return new Promise((resolve) => {
      const onFinished = (view: RunView): void => {
        if (view.runId !== runId) return;
        this.off("run:finished", onFinished);
        resolve(view);
      };
      this.on("run:finished", onFinished);
    });
  }

  getRun(runId: string): RunView | undefined {
    return this.runs.get(runId)?.view();
  }

  listRuns(filter: RunFilter = {}): RunView[] {
    return [...this.runs.values()]
      .map((r) => r.view())
      .filter(
        (v) =>
          (!filter.functionId || v.functionId === filter.functionId) &&
          (!filter.status || v.status === filter.status) &&
          (!filter.eventId || v.eventId === filter.eventId),
      )
      .reverse();
  }

  cancelRun(runId: string): boolean {
    const run = this.runs.get(runId);
    if (!run || run.finished) return false;
    run.cancel();
    return true;
  }

  health(): HealthView {
    const last = this.syncs.lastResult;
    const active = [...this.runs.values()].filter((r) => !r.finished).length;
    return {
      ok: true,
      kind: EXECUTOR_KIND,
      appUrl: this.appUrl,
      signed: this.signingKey !== undefined,
      appVerifiesSignatures: this.syncs.appVerifiesSignatures ?? null,
      synced: last?.ok === true,
      functions: this.registry.size,
      refused: this.registry.refused(),
      lastSyncAt: last?.at ?? null,
      syncError: last?.error ?? null,
      runs: { active, total: this.runs.size },
    };
  }

  // RunHost

  functionDef(id: string): FunctionDef | undefined {
    return this.registry.get(id);
  }

  resync(reason: string): Promise<SyncResult> {
    return this.syncs.syncOnce(reason);
  }

  addWait(wait: EventWait): () => void {
    this.waits.push(wait);
    return () => {
      this.waits = this.waits.filter((w) => w !== wait);
    };
  }

  stepChanged(runId: string, step: StepView): void {
    this.emit("step", { runId, step });
  }

  appUnreachable(runId: string, error: string): void {
    this.emit("app:unreachable", { runId, error });
  }

  callChanged(runId: string, stepId: string, phase: "start" | "end"): void {
    this.emit("call", { runId, stepId, phase });
  }

  runQueued(run: RunDriver): void {
    this.emit("run:queued", run.view());
  }

  runStarted(run: RunDriver): void {
    this.emit("run:started", run.view());
  }

  runFinished(run: RunDriver): void {
    const view = run.view();
    this.emit("run:finished", view);
    if (view.status === "Failed" || view.status === "Cancelled") {
      // Same payload the real server sends; onFailure handlers listen to function.failed.
      this.ingest([
        {
          name: view.status === "Failed" ? "inngest/function.failed" : "inngest/function.cancelled",
          data: {
            function_id: view.functionId,
            run_id: view.runId,
            error: view.error ?? { name: "Error", message: "function cancelled" },
            event: wireEvent(run.event),
          },
        },
      ]);
    }
    this.pruneFinishedRuns();
  }

  // Event processing

  private async process(event: StoredEvent): Promise<EventOutcome> {
    const outcome: EventOutcome = { eventId: event.internalId, runIds: [], skipped: [] };
    if (event.id !== event.internalId && this.seenEventIds.seen(event.id)) {
      log.info({ eventId: event.internalId, id: event.id, name: event.name }, "duplicate event id, no runs started");
      outcome.skipped.push({ reason: `duplicate event id "${event.id}"` });
      return outcome;
    }
    this.resolveWaits(event);
    this.applyCancellations(event);
    if (!this.registry.knows(event.name) && !event.name.startsWith("inngest/")) {
      if (!this.syncs.reached) {
        // Early events (executor or app just started) wait for the first sync; they are never dropped for being early.
        await this.syncs.waitForSync();
      } else if (this.syncs.syncing || this.syncs.msSinceLastAttempt() >= (this.options.resyncMinIntervalMs ?? 1_000)) {
        // Maybe the app gained a function since the last sync (hot reload).
        await this.syncs.syncOnce(`no function for ${event.name}`);
      }
    }
    const { functions, refused } = this.registry.match(event);
    for (const r of refused) {
      log.error(
        { eventId: event.internalId, name: event.name, functionId: r.id, reasons: r.reasons },
        "event matches a function refused at sync",
      );
      outcome.skipped.push({ functionId: r.id, reason: `refused at sync: ${r.reasons.join("; ")}` });
    }
    for (const fn of functions) {
      const key = fn.idempotency?.evaluate({ event: wireEvent(event) });
      if (key !== undefined && key !== null && this.idempotencyKeys.seen(`${fn.id}\u0000${JSON.stringify(key)}`)) {
        log.info({ eventId: event.internalId, functionId: fn.id, key }, "idempotency key seen, no run started");
        outcome.skipped.push({ functionId: fn.id, reason: `idempotency key ${JSON.stringify(key)} already used` });
        continue;
      }
      outcome.runIds.push(this.startRun(fn, event));
    }
    return outcome;
  }

  private startRun(fn: FunctionDef, event: StoredEvent): string {
    const runId = ulid();
    const scope = { event: wireEvent(event) };
    const slots: Slot[] = fn.concurrency.map((rule) => ({
      key: `${rule.scope === "fn" ? fn.id : rule.scope}|${rule.key?.source ?? ""}|${JSON.stringify(rule.key?.evaluate(scope) ?? null)}`,
      limit: rule.limit,
    }));
    const run = new RunDriver(this, runId, fn.id, event, slots);
    this.runs.set(runId, run);
    run.start();
    return runId;
  }

  private resolveWaits(event: StoredEvent): void {
    for (const wait of this.waits) {
      if (wait.event === event.name && wait.matches(event)) wait.resolve(event);
    }
  }

  private applyCancellations(event: StoredEvent): void {
    const incoming = wireEvent(event);
    for (const run of this.runs.values()) {
      if (run.finished) continue;
      const fn = this.registry.get(run.functionId);
      const rule = fn?.cancel.find(
        (c) =>
          c.event === event.name &&
          (c.timeoutMs === undefined || event.ts - run.event.ts <= c.timeoutMs) &&
          (!c.if || c.if.evaluate({ event: wireEvent(run.event), async: incoming }) === true),
      );
      if (!rule) continue;
      log.info({ runId: run.runId, functionId: run.functionId, eventId: event.internalId }, "run cancellation requested");
      run.cancel();
    }
  }

  private pruneEvents(): void {
    const max = this.options.maxFinishedRuns ?? 10_000;
    for (const id of this.events.keys()) {
      if (this.events.size <= max) return;
      this.events.delete(id);
    }
  }

  private pruneFinishedRuns(): void {
    const max = this.options.maxFinishedRuns ?? 10_000;
    let finished = 0;
    for (const run of this.runs.values()) if (run.finished) finished++;
    for (const [id, run] of this.runs) {
      if (finished <= max) return;
      if (run.finished) {
        this.runs.delete(id);
        finished--;
      }
    }
  }

  // Read and control surface for the dashboard and the REST API (inngest/local/dashboard, rest/).

  /** Received events, newest first. */
  listEvents(): ReceivedEvent[] {
    return [...this.events.values()].map(({ event, receivedAt }) => ({ event, receivedAt })).reverse();
  }

  getEvent(internalId: string): ReceivedEvent | undefined {
    const pending = this.events.get(internalId);
    return pending ? { event: pending.event, receivedAt: pending.receivedAt } : undefined;
  }

  /** The synced functions (accepted ones), with the app that declared them. */
  listFunctions(): FunctionDef[] {
    return this.registry.all();
  }

  /** A new run of the same function with the same event (as Inngest's rerun: no idempotency check). */
  rerun(runId: string): string | undefined {
    const run = this.runs.get(runId);
    const fn = run && this.registry.get(run.functionId);
    if (!run || !fn) return undefined;
    log.info({ runId, functionId: fn.id }, "run rerun requested");
    return this.startRun(fn, run.event);
  }
}
