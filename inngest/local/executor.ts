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
import { newRunRecord, type RunRecord } from "./run-state";
import { listenExecutorServer } from "./server";
import { MemoryStore, type EngineStore } from "./store";
import { SyncManager } from "./sync-manager";
import type { EventOutcome, FunctionDef, RunStatus, RunView, StepView, StoredEvent, SyncResult } from "./types";
import { ulid, ulidTime } from "./ulid";

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
  /** Without a signing key: the token the app shares in development, for the dashboard's reads of it. */
  engineToken?: string;
  /**
   * Where events, runs, memoized steps, timers and keys are kept so a restart resumes every
   * unfinished run. Default: in memory only (nothing survives). The caller opens and closes it.
   */
  store?: EngineStore;
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
  /** Where the executor keeps its state ("memory": nothing survives a restart). */
  store: EngineStore["kind"];
}

interface PendingEvent {
  outcome: Promise<EventOutcome>;
  /** Settles once the store has the event (rejects if it could not be stored). */
  saved: Promise<void>;
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
 * through the app's serve() endpoint. With a store (`options.store`) it is durable: what it
 * received and every run's state are saved before it acts on them, and `start()` resumes them.
 */
export class LocalExecutor extends EventEmitter<ExecutorEvents> implements RunHost {
  readonly gate = new ConcurrencyGate();
  readonly backoff: BackoffPolicy;
  readonly callTimeoutMs: number;
  readonly appUrl: string;
  readonly signingKey: string | undefined;
  private readonly registry = new FunctionRegistry();
  private readonly syncs: SyncManager;
  private readonly store: EngineStore;
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
    this.store = options.store ?? new MemoryStore();
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
    await this.restore();
    const { server, url } = await listenExecutorServer(this, this.options.port ?? 8288, this.options.host ?? "127.0.0.1", {
      signingKey: this.signingKey,
      ...(this.options.engineToken ? { engineToken: this.options.engineToken } : {}),
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
    // Writes already under way finish, so the caller can close the store after this.
    // (Not the event chain: it may be waiting for an app that never answers.)
    await Promise.allSettled([...[...this.runs.values()].map((run) => run.persist()), ...[...this.events.values()].map((e) => e.saved)]);
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
      const saved = this.store.saveEvent(event);
      saved.catch((err: unknown) => log.error({ eventId: internalId, err }, "event could not be stored"));
      this.enqueue(event, saved, new Date().toISOString());
      return internalId;
    });
  }

  /**
   * Resolves once the store has these events (what `POST /e` waits for before answering); rejects
   * if one could not be stored, so the sender sees an error rather than an acknowledged loss.
   */
  async accepted(ids: string[]): Promise<void> {
    const saves: Promise<void>[] = [];
    for (const id of ids) {
      const saved = this.events.get(id)?.saved;
      if (saved) saves.push(saved);
    }
    await Promise.all(saves);
  }

  private enqueue(event: StoredEvent, saved: Promise<void>, receivedAt: string): void {
    const outcome = new Promise<EventOutcome>((resolve) => {
      this.chain = this.chain.then(async () => {
        await saved.catch(() => undefined);
        const result = await this.process(event).catch((err: unknown) => {
          log.error({ eventId: event.internalId, err }, "event processing failed");
          return { eventId: event.internalId, runIds: [], skipped: [{ reason: String(err) }] };
        });
        await this.store
          .eventProcessed(result)
          .catch((err: unknown) => log.error({ eventId: event.internalId, err }, "event outcome could not be stored"));
        resolve(result);
        this.emit("event", result);
      });
    });
    this.events.set(event.internalId, { outcome, saved, event, receivedAt });
    this.pruneEvents();
  }

  /**
   * Loads the store: finished runs and processed events for the views, keys for dedupe. Unfinished
   * runs resume, and unprocessed events are processed, once the app's functions are synced.
   */
  private async restore(): Promise<void> {
    const snapshot = await this.store.load();
    this.seenEventIds.restore(snapshot.keys.filter((k) => k.key.startsWith("event:")));
    this.idempotencyKeys.restore(snapshot.keys.filter((k) => k.key.startsWith("idem:")));
    const resumed: RunDriver[] = [];
    for (const record of snapshot.runs) {
      const run = new RunDriver(this, record);
      this.runs.set(record.runId, run);
      if (!run.finished) resumed.push(run);
    }
    let pending = 0;
    for (const { event, outcome } of snapshot.events) {
      if (outcome) {
        const receivedAt = receivedAtOf(event);
        this.events.set(event.internalId, { outcome: Promise.resolve(outcome), saved: Promise.resolve(), event, receivedAt });
      } else pending++;
    }
    if (resumed.length > 0 || pending > 0) {
      log.info({ store: this.store.kind, runs: resumed.length, events: pending }, "resuming unfinished runs after a restart");
      // First in the chain: runs resume before any event (a cancel, a waited-for event) reaches them.
      this.chain = this.chain.then(async () => {
        await this.syncs.waitForSync();
        for (const run of resumed) run.resume(this.registry.get(run.functionId)?.maxAttempts ?? 1);
      });
    }
    for (const { event, outcome } of snapshot.events) if (!outcome) this.enqueue(event, Promise.resolve(), receivedAtOf(event));
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
      store: this.store.kind,
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

  saveRun(record: RunRecord): Promise<void> {
    return this.store.saveRun(record).catch((err: unknown) => {
      log.error({ runId: record.runId, err }, "run state could not be stored");
      throw err;
    });
  }

  async runFinished(run: RunDriver): Promise<void> {
    const view = run.view();
    this.emit("run:finished", view);
    if (view.status === "Failed" || view.status === "Cancelled") {
      // Same payload the real server sends; onFailure handlers listen to function.failed.
      const name = view.status === "Failed" ? "inngest/function.failed" : "inngest/function.cancelled";
      // One id per run: a run finished again after a crash re-sends it, and the duplicate is dropped.
      const ids = this.ingest([
        {
          name,
          id: `${name}:${view.runId}`,
          data: {
            function_id: view.functionId,
            run_id: view.runId,
            error: view.error ?? { name: "Error", message: "function cancelled" },
            event: wireEvent(run.event),
          },
        },
      ]);
      this.pruneFinishedRuns();
      await this.accepted(ids);
      return;
    }
    this.pruneFinishedRuns();
  }

  // Event processing

  private async process(event: StoredEvent): Promise<EventOutcome> {
    const outcome: EventOutcome = { eventId: event.internalId, runIds: [], skipped: [] };
    if (event.id !== event.internalId && !(await this.claimKey(this.seenEventIds, `event:${JSON.stringify(event.id)}`, event))) {
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
      // Processed again after a restart: the run it started then is its run.
      const existing = [...this.runs.values()].find((r) => r.event.internalId === event.internalId && r.functionId === fn.id);
      if (existing) {
        outcome.runIds.push(existing.runId);
        continue;
      }
      const key = fn.idempotency?.evaluate({ event: wireEvent(event) });
      if (
        key !== undefined &&
        key !== null &&
        !(await this.claimKey(this.idempotencyKeys, `idem:${JSON.stringify([fn.id, key])}`, event))
      ) {
        log.info({ eventId: event.internalId, functionId: fn.id, key }, "idempotency key seen, no run started");
        outcome.skipped.push({ functionId: fn.id, reason: `idempotency key ${JSON.stringify(key)} already used` });
        continue;
      }
      outcome.runIds.push(await this.startRun(fn, event));
    }
    return outcome;
  }

  /** Claims a dedupe key for this event and stores it before the run it guards starts. */
  private async claimKey(keys: ExpiringSet, key: string, event: StoredEvent): Promise<boolean> {
    const expiresAt = keys.claim(key, event.internalId);
    if (expiresAt === undefined) return false;
    await this.store.saveKey({ key, owner: event.internalId, expiresAt });
    return true;
  }

  private async startRun(fn: FunctionDef, event: StoredEvent): Promise<string> {
    const runId = ulid();
    const scope = { event: wireEvent(event) };
    const slots: Slot[] = fn.concurrency.map((rule) => ({
      key: `${rule.scope === "fn" ? fn.id : rule.scope}|${rule.key?.source ?? ""}|${JSON.stringify(rule.key?.evaluate(scope) ?? null)}`,
      limit: rule.limit,
    }));
    const run = new RunDriver(this, newRunRecord(runId, fn.id, event, slots, new Date()));
    this.runs.set(runId, run);
    await run.start().catch(() => undefined);
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
    const dropped: string[] = [];
    for (const id of this.events.keys()) {
      if (this.events.size <= max) break;
      this.events.delete(id);
      dropped.push(id);
    }
    if (dropped.length > 0)
      void this.store.deleteEvents(dropped).catch((err: unknown) => log.error({ err }, "old events could not be deleted"));
  }

  private pruneFinishedRuns(): void {
    const max = this.options.maxFinishedRuns ?? 10_000;
    let finished = 0;
    for (const run of this.runs.values()) if (run.finished) finished++;
    const dropped: string[] = [];
    for (const [id, run] of this.runs) {
      if (finished <= max) break;
      if (run.finished) {
        this.runs.delete(id);
        dropped.push(id);
        finished--;
      }
    }
    if (dropped.length > 0)
      void this.store.deleteRuns(dropped).catch((err: unknown) => log.error({ err }, "old runs could not be deleted"));
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
  async rerun(runId: string): Promise<string | undefined> {
    const run = this.runs.get(runId);
    const fn = run && this.registry.get(run.functionId);
    if (!run || !fn) return undefined;
    log.info({ runId, functionId: fn.id }, "run rerun requested");
    return this.startRun(fn, run.event);
  }
}

/** When an event was received: its internal id is a ULID minted on arrival, so a restored event keeps its time. */
function receivedAtOf(event: StoredEvent): string {
  return new Date(ulidTime(event.internalId)).toISOString();
}
