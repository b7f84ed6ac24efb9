/**
 * Test support (not a test): a real app (stock Inngest client + `serve` from inngest/node on
 * node:http) wired to a LocalExecutor, both on ephemeral ports.
 */
import { once } from "node:events";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Inngest, type InngestFunction } from "inngest";
import { serve } from "inngest/node";
import type { BackoffPolicy } from "./backoff";
import { LocalExecutor, type ExecutorEvents, type LocalExecutorOptions } from "./executor";
import type { RunView } from "./types";

/** Backoff for tests: retries and reconnects right away, never a real wait. */
export const fastBackoff: BackoffPolicy = { retry: () => 1, unreachable: () => 5, sync: () => 5 };

const silent = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The app side: a node:http server whose handler can be swapped, stopped and restarted. */
export class AppServer {
  private handler: RequestListener | undefined;
  private server: Server;

  private constructor(private port: number) {
    this.server = this.makeServer();
  }

  static async start(port = 0): Promise<AppServer> {
    const app = new AppServer(port);
    await app.listen();
    return app;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/api/inngest`;
  }

  setHandler(handler: RequestListener): void {
    this.handler = handler;
  }

  async stop(): Promise<void> {
    const closed = once(this.server, "close");
    this.server.close();
    this.server.closeAllConnections();
    await closed;
  }

  /** Listen again on the same port (an app restart). */
  async restart(): Promise<void> {
    this.server = this.makeServer();
    await this.listen();
  }

  private async listen(): Promise<void> {
    this.server.listen(this.port, "127.0.0.1");
    await once(this.server, "listening");
    this.port = (this.server.address() as AddressInfo).port;
  }

  private makeServer(): Server {
    return createServer((req, res) => {
      if (!this.handler) {
        // Not ready yet, like a dev server still compiling the route.
        res.writeHead(503).end();
        return;
      }
      this.handler(req, res);
    });
  }
}

export function testClient(executorUrl: string) {
  return new Inngest({ id: "test-app", isDev: true, baseUrl: executorUrl, logger: silent });
}

/** A client in cloud (production) mode: it verifies every request's signature with `signingKey`. */
/** The client the tests define functions on: the inferred type, so handlers' `step` is typed, not `any`. */
export type TestInngest = ReturnType<typeof testClient>;

export function cloudTestClient(executorUrl: string, signingKey: string): TestInngest {
  return new Inngest({ id: "test-app", isDev: false, signingKey, eventKey: "test-event-key", baseUrl: executorUrl, logger: silent });
}

// `Like`, not `Any`: an `any`-typed return would flow back into each handler and untype its `step`.
export type DefineFunctions = (inngest: TestInngest) => InngestFunction.Like[];

export interface Harness {
  app: AppServer;
  executor: LocalExecutor;
  inngest: TestInngest;
  /** Serve a new set of functions from the same app (a hot reload). */
  reload(define: DefineFunctions): void;
  close(): Promise<void>;
}

export async function startHarness(
  define: DefineFunctions,
  options: Partial<LocalExecutorOptions> & { app?: AppServer; waitForSync?: boolean; client?: (executorUrl: string) => TestInngest } = {},
): Promise<Harness> {
  const { app: givenApp, waitForSync, client = testClient, ...executorOptions } = options;
  const app = givenApp ?? (await AppServer.start());
  const executor = new LocalExecutor({ appUrl: app.url, port: 0, backoff: fastBackoff, ...executorOptions });
  const executorUrl = await executor.start();
  const inngest = client(executorUrl);
  const reload = (next: DefineFunctions): void => app.setHandler(serve({ client: inngest, functions: next(inngest) }));
  reload(define);
  if (waitForSync ?? true) await executor.waitForSync();
  return {
    app,
    executor,
    inngest,
    reload,
    close: async () => {
      await executor.stop();
      await app.stop().catch(() => undefined);
    },
  };
}

/** Send one event through the real client; resolves with the executor's event id. */
export async function send(inngest: Inngest, name: string, data: Record<string, unknown> = {}, id?: string): Promise<string> {
  const { ids } = await inngest.send(id === undefined ? { name, data } : { name, data, id });
  const eventId = ids[0];
  if (!eventId) throw new Error("send returned no id");
  return eventId;
}

/** The single run an event started, once it has finished. */
export async function onlyRun(executor: LocalExecutor, eventId: string): Promise<RunView> {
  const runs = await executor.runsOfEvent(eventId);
  if (runs.length !== 1) throw new Error(`expected 1 run for event ${eventId}, got ${runs.length}`);
  return runs[0] as RunView;
}

/** The next executor event matching `predicate` (register before causing it). */
export function nextEvent<K extends keyof ExecutorEvents>(
  executor: LocalExecutor,
  name: K,
  predicate: (...args: ExecutorEvents[K]) => boolean = () => true,
): Promise<ExecutorEvents[K]> {
  return new Promise((resolve) => {
    const listener = (...args: ExecutorEvents[K]): void => {
      if (!predicate(...args)) return;
      executor.off(name, listener as never);
      resolve(args);
    };
    executor.on(name, listener as never);
  });
}

/** Tracks, per run, the most discovery calls the executor had in flight at once. */
export function trackDiscoveryOverlap(executor: LocalExecutor): Map<string, number> {
  const max = new Map<string, number>();
  const now = new Map<string, number>();
  executor.on("call", ({ runId, stepId, phase }) => {
    if (stepId !== "step") return;
    const count = (now.get(runId) ?? 0) + (phase === "start" ? 1 : -1);
    now.set(runId, count);
    max.set(runId, Math.max(count, max.get(runId) ?? 0));
  });
  return max;
}

/** The next finished run of a function (e.g. an onFailure handler). */
export async function nextFinishedRun(executor: LocalExecutor, functionId: string): Promise<RunView> {
  const [run] = await nextEvent(executor, "run:finished", (view) => view.functionId === functionId);
  return run;
}
