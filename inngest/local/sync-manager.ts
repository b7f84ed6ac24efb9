import { log } from "../../src/lib/process-log";
import type { BackoffPolicy } from "./backoff";
import type { FunctionRegistry } from "./registry";
import { requestInBandSync } from "./sync";
import type { SyncResult } from "./types";

interface SyncManagerOptions {
  appUrl: string;
  registry: FunctionRegistry;
  backoff: BackoffPolicy;
  timeoutMs: number;
  /** Sign sync requests with this key (see signing.ts). */
  signingKey?: string;
  onSynced: (result: SyncResult) => void;
  onFailed: (error: string) => void;
}

interface Attempt {
  result: SyncResult;
  /** The app answered (even if it declared functions we refuse). */
  reached: boolean;
}

/** In-band syncs: one at a time, retried with backoff at startup until the app is up. */
export class SyncManager {
  lastResult: SyncResult | undefined;
  /** Signed mode: whether the app signed its last in-band sync answer, i.e. checks signatures. */
  appVerifiesSignatures: boolean | undefined;
  private lastAttemptAt = 0;
  private inflight: Promise<Attempt> | undefined;
  private reachedOnce = false;
  private waiters: ((result: SyncResult) => void)[] = [];
  private stopped = false;
  private looping = false;
  private wakeLoop: (() => void) | undefined;
  private loopTimer: NodeJS.Timeout | undefined;
  private lastLoggedError: string | undefined;
  private warnedUnsigned = false;

  constructor(private readonly options: SyncManagerOptions) {}

  /** A sync attempt is in flight right now. */
  get syncing(): boolean {
    return this.inflight !== undefined;
  }

  /** Some sync has reached the app since start. */
  get reached(): boolean {
    return this.reachedOnce;
  }

  msSinceLastAttempt(): number {
    return Date.now() - this.lastAttemptAt;
  }

  async syncOnce(reason: string): Promise<SyncResult> {
    return (await this.attemptShared(reason)).result;
  }

  /** Resolves with the first result of a sync that reached the app (now, if one already did). */
  waitForSync(): Promise<SyncResult> {
    if (this.reachedOnce && this.lastResult) return Promise.resolve(this.lastResult);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** POST /fn/register: the SDK pushed its functions to us. */
  applyOutOfBand(appId: string, functions: unknown[]): SyncResult {
    return this.record(this.options.registry.apply(appId, functions), "out_of_band", "app registered");
  }

  startLoop(): void {
    if (this.looping) return;
    this.looping = true;
    this.stopped = false;
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.loopTimer) clearTimeout(this.loopTimer);
    this.wakeLoop?.();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const { reached } = await this.attemptShared("startup");
      if (reached || this.stopped) break;
      const delay = this.options.backoff.sync(failures++);
      await new Promise<void>((resolve) => {
        this.wakeLoop = resolve;
        this.loopTimer = setTimeout(resolve, delay);
      });
    }
    this.looping = false;
  }

  private attemptShared(reason: string): Promise<Attempt> {
    if (!this.inflight) {
      this.inflight = this.attempt(reason).finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  private async attempt(reason: string): Promise<Attempt> {
    this.lastAttemptAt = Date.now();
    const { appUrl, registry, timeoutMs, signingKey } = this.options;
    const res = await requestInBandSync(appUrl, timeoutMs, signingKey);
    switch (res.kind) {
      case "synced":
        if (signingKey !== undefined) this.appVerifiesSignatures = res.responseSigned;
        if (signingKey !== undefined && !res.responseSigned && !this.warnedUnsigned) {
          // The app accepted a signed sync without signing its answer: it checks no signatures.
          this.warnedUnsigned = true;
          log.warn({ appUrl }, "requests are signed but the app does not verify signatures (is it in dev mode?)");
        }
        return { result: this.record(registry.apply(res.appId, res.functions), "in_band", reason), reached: true };
      case "out-of-band": {
        // The SDK registered through POST /fn/register while answering; that already recorded it.
        const result =
          this.lastResult ?? this.record({ ok: true, at: new Date().toISOString(), functions: [], refused: [] }, "out_of_band", reason);
        return { result, reached: true };
      }
      case "unreachable":
      case "failed": {
        const result: SyncResult = {
          ok: false,
          at: new Date().toISOString(),
          functions: this.lastResult?.functions ?? [],
          refused: this.lastResult?.refused ?? [],
          error: res.kind === "unreachable" ? `app unreachable at ${appUrl}: ${res.error}` : res.error,
        };
        this.lastResult = result;
        const error = result.error ?? "sync failed";
        // While the app boots the same failure repeats; say it once, not every backoff tick.
        if (error !== this.lastLoggedError) log.warn({ appUrl, reason, error }, "sync failed, retrying with backoff");
        this.lastLoggedError = error;
        this.options.onFailed(error);
        return { result, reached: false };
      }
    }
  }

  private record(result: SyncResult, kind: "in_band" | "out_of_band", reason: string): SyncResult {
    this.lastResult = result;
    this.reachedOnce = true;
    this.lastLoggedError = undefined;
    if (result.ok) {
      log.info({ appUrl: this.options.appUrl, kind, reason, functions: result.functions }, "sync succeeded");
    } else {
      log.error(
        { appUrl: this.options.appUrl, kind, reason, functions: result.functions, refused: result.refused },
        "sync refused functions",
      );
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve(result);
    this.options.onSynced(result);
    return result;
  }
}
