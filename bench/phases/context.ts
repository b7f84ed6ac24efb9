import type { ProjectRef } from "../client/commands";
import type { StreamKind, Target } from "../client/sse-connection";
import type { ServerProcess } from "../lib/child";
import type { LoadClient } from "../lib/load-client";
import type { BenchSizes } from "../options";

export type ServerName = "baseline" | "genstream" | "redis";

/** A server under test and the load-client process that holds its connections (one each: fd limits). */
export interface BenchServer {
  name: ServerName;
  /** The projects this server streams (the baseline shares Genstream's ids; the Redis variant has its own database). */
  projects: BenchProjects;
  target: Target;
  proc: ServerProcess;
  client: LoadClient;
}

/** Correctness across the run: a missed or dropped delivery fails the run in every mode. */
export class Problems {
  readonly misses: Record<ServerName, number> = { baseline: 0, genstream: 0, redis: 0 };
  readonly notes: string[] = [];

  miss(server: ServerName, count: number, where: string): void {
    if (count <= 0) return;
    this.misses[server] += count;
    this.notes.push(`${server}: ${count} missed in ${where}`);
  }

  fail(note: string): void {
    this.notes.push(note);
  }

  get failed(): boolean {
    return this.notes.length > 0;
  }
}

/** The projects of a run (created in the app; the baseline accepts any id and ignores cookies). */
export interface BenchProjects {
  /** Spread targets of the steady-state phase and of the capacity ramp's extra connections. */
  spread: ProjectRef[];
  /** One project of its own per fan-out size. */
  fanout: ProjectRef[];
}

export interface PhaseContext {
  /** Baseline first; phases alternate which one goes first. */
  servers: readonly [BenchServer, BenchServer];
  /** Genstream with REDIS_URL (Redis Streams log): measured in the fan-out phase beside the others; null with --no-redis. */
  redis: BenchServer | null;
  sizes: BenchSizes;
  problems: Problems;
  log: (line: string) => void;
}

/** Connection groups opened by the ramp and reused by the later phases; the multiplexed stream's are prefixed `mux-`. */
export const groups = {
  fanout: (size: number, kind: StreamKind = "project"): string => `${prefix(kind)}fanout-${size}`,
  steady: (kind: StreamKind = "project"): string => `${prefix(kind)}steady`,
  extra: "capacity-extra",
} as const;

function prefix(kind: StreamKind): string {
  return kind === "mux" ? "mux-" : "";
}

/** The servers, rotated by `round` so none always runs first (on a warmer or a quieter machine). */
export function inTurn(servers: readonly BenchServer[], round: number): BenchServer[] {
  const k = round % Math.max(1, servers.length);
  return [...servers.slice(k), ...servers.slice(0, k)];
}

/** Closes a connection group; connections the server dropped before that count as failures. */
export async function closeGroup(ctx: PhaseContext, server: BenchServer, group: string): Promise<void> {
  const { droppedBeforeClose } = await server.client.call("close", { group });
  if (droppedBeforeClose > 0)
    ctx.problems.fail(`${server.name}: ${droppedBeforeClose} connection(s) of ${group} were closed by the server`);
}
