import type { IncomingMessage } from "node:http";
import { AppServer } from "./app-server";
import { LoadBalancer, type Route } from "./load-balancer";
import { freePort } from "./ports";

export interface ClusterOptions {
  /** Redis both instances share (default TEST_REDIS_URL). */
  redisUrl?: string;
  /** Production Inngest with signed requests (see AppServerOptions.signingKey). */
  signingKey?: string;
  /** Extra environment of both instances (e.g. the model, LLM_BASE_URL). */
  env?: Record<string, string>;
}

/**
 * Scale-out as deployed: two production app instances (A and B) sharing PostgreSQL and Redis,
 * behind one load balancer (their public URL, so sessions and auth origins are the balancer's), and
 * one executor that calls instance B's Inngest endpoint. Both instances send their events to it.
 */
export class AppCluster {
  private constructor(
    readonly a: AppServer,
    readonly b: AppServer,
    readonly lb: LoadBalancer,
  ) {}

  static async start(options: ClusterOptions = {}): Promise<AppCluster> {
    const [portA = 0, portB = 0, executorPort = 0] = await distinctPorts(3);
    const holder: { cluster?: AppCluster } = {};
    const lb = await LoadBalancer.start((req) => (holder.cluster ? holder.cluster.pageOnA(req) : `http://127.0.0.1:${portA}`));
    const shared = {
      executorPort,
      eventLog: "redis" as const,
      publicURL: lb.url,
      ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
      ...(options.signingKey ? { signingKey: options.signingKey } : {}),
      ...(options.env ? { env: options.env } : {}),
    };
    const a = new AppServer({ ...shared, port: portA, executor: false });
    const b = new AppServer({ ...shared, port: portB });
    const cluster = new AppCluster(a, b, lb);
    holder.cluster = cluster;
    const started = await Promise.allSettled([a.start(), b.start()]);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      await cluster.stop();
      throw failed.reason;
    }
    return cluster;
  }

  /** The default route: pages, auth and streams on A; tRPC (so every send) on B. */
  pageOnA(req: IncomingMessage): string {
    return (req.url ?? "/").startsWith("/api/trpc/") ? this.b.baseURL : this.a.baseURL;
  }

  route(route: Route): void {
    this.lb.setRoute(route);
  }

  /** Everything to one instance. */
  routeAllTo(server: AppServer): void {
    this.lb.setRoute(() => server.baseURL);
  }

  async stop(): Promise<void> {
    await Promise.all([this.a.stop(), this.b.stop(), this.lb.close()]);
  }
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}
