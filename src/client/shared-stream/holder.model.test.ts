import { writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { seededRandom, type Random } from "../../test/chaos/seeded-random";
import type { ProgressEvent } from "../../streaming/protocol";
import type { EventSourceLike, MessageEventLike } from "../event-source";
import { GenerationStreamClient } from "../stream-client";
import { runEvents } from "../testing/events";
import { StreamHolder, SubscriptionCallError, type SubscriptionCalls } from "./holder";
import type { HolderMessage, TabMessage } from "./messages";
import { TabLink } from "./tab-link";

/**
 * The holder against a model of the multiplexed server, under seeded-random interleavings: every
 * message (frames on each socket, tab ↔ holder messages, each call's arrival, replay and answer) is
 * a task on its own FIFO channel, and each step runs the head of a random channel, so the orders a
 * real network can produce (an answer before its `ready`, a drop between a subscribe and its
 * replay, a tab reopening while its project resubscribes) all happen. Chaos (events, tabs retrying
 * or reloading, the shared socket dying, calls losing their answer) runs for a while, then stops;
 * every tab (some opened mid-chaos at the log's head, ahead of the holder) must then be ready at the log's head with exactly the log's events after its first
 * cursor, in order: nothing lost, nothing twice, no reset (the model's log keeps everything).
 * A failing seed replays exactly (`HOLDER_MODEL_SEED=<n>`), with the schedule's trace printed.
 */

const EPOCH = "e1";
const PROJECTS = ["p1", "p2"] as const;
type ProjectId = (typeof PROJECTS)[number];

interface Task {
  what: string;
  run: () => void;
}

/** Channels of tasks, each FIFO; the scheduler picks which channel moves next. */
class Network {
  private readonly channels = new Map<string, Task[]>();
  readonly trace: string[] = [];

  push(channel: string, what: string, run: () => void): void {
    let queue = this.channels.get(channel);
    if (!queue) {
      queue = [];
      this.channels.set(channel, queue);
    }
    queue.push({ what, run });
  }

  /** Drops what is still queued on a channel (a socket that died with frames in flight). */
  clear(channel: string): void {
    this.channels.delete(channel);
  }

  get busy(): boolean {
    return this.channels.size > 0;
  }

  step(random: Random): boolean {
    const names = [...this.channels.keys()];
    if (names.length === 0) return false;
    const name = names[Math.floor(random() * names.length)] as string;
    const queue = this.channels.get(name) as Task[];
    const task = queue.shift() as Task;
    if (queue.length === 0) this.channels.delete(name);
    this.trace.push(`${name}: ${task.what}`);
    task.run();
    return true;
  }
}

interface Logged {
  id: string;
  seq: number;
  projectId: ProjectId;
  data: string;
  type: string;
}

interface ServerSub {
  projectId: ProjectId;
  live: boolean;
  ended: boolean;
  last: number;
  pending: Logged[];
}

interface ServerConnection {
  id: string;
  socket: ModelSocket;
  open: boolean;
  subs: Map<ProjectId, ServerSub>;
}

/** The holder's EventSource: what the model server writes reaches its listeners through the socket's channel. */
class ModelSocket implements EventSourceLike {
  closedByClient = false;
  dead = false;
  private readonly listeners = new Map<string, ((event: MessageEventLike) => void)[]>();

  constructor(
    readonly n: number,
    private readonly net: Network,
    private readonly onClientClose: () => void,
  ) {}

  get channel(): string {
    return `socket${this.n}`;
  }

  addEventListener(type: string, listener: (event: MessageEventLike) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    if (this.closedByClient) return;
    this.closedByClient = true;
    this.onClientClose();
  }

  /** The server writes a frame: it arrives later, in order, unless the socket dies first. */
  write(type: string, data: string | undefined, id?: string): void {
    if (this.dead || this.closedByClient) return;
    this.net.push(this.channel, `${type} ${id ?? data ?? ""}`, () => this.dispatch(type, { data, lastEventId: id }));
  }

  /** A network fault: frames in flight are lost, the client sees one transport error. */
  kill(): void {
    this.dead = true;
    this.net.clear(this.channel);
    this.net.push(this.channel, "error (socket died)", () => this.dispatch("error", {}));
  }

  private dispatch(type: string, event: MessageEventLike): void {
    if (this.closedByClient) return;
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
}

/** The multiplexed stream server as the protocol defines it (src/streaming/service.ts), over the model network. */
class ModelServer {
  readonly log: Logged[] = [];
  private readonly connections = new Map<string, ServerConnection>();
  private sockets = 0;
  private calls = 0;
  private published = 0;
  current: ModelSocket | null = null;

  constructor(
    private readonly net: Network,
    private readonly random: Random,
    private readonly faults: { lostAnswerRate: number; lostRequestRate: number },
  ) {}

  head(projectId: ProjectId): number {
    let seq = 0;
    for (const e of this.log) if (e.projectId === projectId) seq = e.seq;
    return seq;
  }

  /** `GET /api/stream`: the connection is registered, then `connected` is written. */
  open = (): EventSourceLike => {
    const n = ++this.sockets;
    const connection: ServerConnection = {
      id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
      socket: null as never,
      open: true,
      subs: new Map(),
    };
    const socket = new ModelSocket(n, this.net, () => this.net.push(`server${n}`, "client closed", () => this.close(connection)));
    connection.socket = socket;
    this.current = socket;
    this.net.push(`server${n}`, "accept", () => {
      if (socket.closedByClient || socket.dead) return this.close(connection);
      this.connections.set(connection.id, connection);
      socket.write("connected", JSON.stringify({ connectionId: connection.id }));
    });
    return socket;
  };

  /** The shared socket dies under the browser; the server notices later. */
  killCurrent(): boolean {
    const socket = this.current;
    if (!socket || socket.dead || socket.closedByClient) return false;
    socket.kill();
    const connection = [...this.connections.values()].find((c) => c.socket === socket);
    this.net.push(`server${socket.n}`, "socket closed", () => {
      if (connection) this.close(connection);
    });
    return true;
  }

  publish(projectId: ProjectId): void {
    const seq = this.log.length + 1;
    const events = runEvents(projectId, `r${seq}`);
    const event: ProgressEvent = events.progress("generate-code", `event ${seq}`);
    const logged: Logged = {
      id: `${EPOCH}:${seq}`,
      seq,
      projectId,
      type: event.type,
      data: JSON.stringify({ id: `${EPOCH}:${seq}`, key: `k${++this.published}`, event }),
    };
    this.log.push(logged);
    for (const connection of this.connections.values()) {
      const sub = connection.subs.get(projectId);
      if (!sub || sub.ended) continue;
      if (sub.live) this.deliver(connection, sub, logged);
      else sub.pending.push(logged);
    }
  }

  readonly calls$: SubscriptionCalls = {
    subscribe: (input) => this.call("subscribe", input.connectionId, input.projectId as ProjectId, input.cursor, input.subscriptionId),
    unsubscribe: (input) => this.call("unsubscribe", input.connectionId, input.projectId as ProjectId, null),
  };

  private call(
    op: "subscribe" | "unsubscribe",
    connectionId: string,
    projectId: ProjectId,
    cursor: string | null,
    subscriptionId?: string,
  ): Promise<unknown> {
    const n = ++this.calls;
    const channel = `call${n}`;
    const what = `${op} ${projectId} ${connectionId.slice(-2)} from ${cursor}`;
    return new Promise((resolve, reject) => {
      const answer = (outcome: { ok: true; value: unknown } | { ok: false; code: string; message: string }) => {
        // The request reached the server; its answer may still be lost (offline, a proxy reset).
        const lost = this.random() < this.faults.lostAnswerRate;
        this.net.push(channel, `${what}: answer ${outcome.ok ? "ok" : outcome.code}${lost ? " (lost)" : ""}`, () => {
          if (lost) reject(new SubscriptionCallError(undefined, "fetch failed"));
          else if (outcome.ok) resolve(outcome.value);
          else reject(new SubscriptionCallError(outcome.code, outcome.message));
        });
      };
      if (this.random() < this.faults.lostRequestRate) {
        this.net.push(channel, `${what}: request lost`, () => reject(new SubscriptionCallError(undefined, "fetch failed")));
        return;
      }
      this.net.push(channel, `${what}: arrives`, () => {
        const connection = this.connections.get(connectionId);
        if (!connection?.open) return answer({ ok: false, code: "PRECONDITION_FAILED", message: "not open" });
        const existing = connection.subs.get(projectId);
        if (existing) {
          existing.ended = true;
          connection.subs.delete(projectId);
        }
        if (op === "unsubscribe") return answer({ ok: true, value: { ok: true } });
        // Registered first: events published from here on queue up until `ready`.
        const sub: ServerSub = { projectId, live: false, ended: false, last: 0, pending: [] };
        connection.subs.set(projectId, sub);
        this.net.push(channel, `${what}: replay`, () => {
          if (sub.ended || !connection.open) {
            return answer(
              connection.open
                ? { ok: false, code: "CONFLICT", message: "replaced" }
                : { ok: false, code: "PRECONDITION_FAILED", message: "not open" },
            );
          }
          const head = this.head(projectId);
          const from = cursor === null ? null : Number(cursor.split(":")[1]);
          let readyAt = head;
          if (from === null) {
            sub.last = head;
          } else if (from > head) {
            connection.socket.write(
              "reset",
              JSON.stringify({ projectId, reason: "future-cursor", cursor: `${EPOCH}:${head}`, subscriptionId }),
            );
            sub.last = head;
          } else {
            sub.last = from;
            for (const e of this.log) if (e.projectId === projectId && e.seq > from) this.write(connection, sub, e);
            readyAt = Math.max(from, sub.last);
          }
          connection.socket.write("ready", JSON.stringify({ projectId, cursor: `${EPOCH}:${readyAt}`, subscriptionId }));
          sub.live = true;
          for (const e of sub.pending) this.deliver(connection, sub, e);
          sub.pending = [];
          answer({ ok: true, value: { ok: true } });
        });
      });
    });
  }

  private deliver(connection: ServerConnection, sub: ServerSub, e: Logged): void {
    if (e.seq <= sub.last) return;
    this.write(connection, sub, e);
  }

  private write(connection: ServerConnection, sub: ServerSub, e: Logged): void {
    sub.last = e.seq;
    connection.socket.write(e.type, e.data, e.id);
  }

  private close(connection: ServerConnection): void {
    connection.open = false;
    for (const sub of connection.subs.values()) sub.ended = true;
    connection.subs.clear();
    this.connections.delete(connection.id);
  }
}

interface ClientRecord {
  client: GenerationStreamClient;
  /** Ids applied, and every progress frame given (applied or not), in order; resets seen. */
  applied: string[];
  wire: string[];
  resets: string[];
  /** The log position the tab first opened at: it must apply every event after it. */
  from: number;
}

interface ModelTab {
  name: string;
  link: TabLink;
  clients: Map<ProjectId, ClientRecord>;
}

interface Outcome {
  trace: string[];
  problems: string[];
  stats: { steps: number; events: number; drops: number; sockets: number };
}

/** One seeded schedule: chaos for `chaosSteps`, then quiet until every tab is ready at the head. */
async function runSchedule(seed: number, options: { tabs: number; chaosSteps: number; events: number }): Promise<Outcome> {
  const random = seededRandom(seed);
  const net = new Network();
  const server = new ModelServer(net, random, { lostAnswerRate: 0.05, lostRequestRate: 0.03 });
  const holder = new StreamHolder({ calls: server.calls$, createEventSource: server.open, random });
  const tabs: ModelTab[] = [];
  const all: GenerationStreamClient[] = [];
  let tabCount = 0;
  let drops = 0;

  /** A stream client of the project in the tab; after a reload, the same record goes on (the person's view of the project). */
  const openClient = (tab: ModelTab, projectId: ProjectId, cursorSeq: number, record: Omit<ClientRecord, "client">) => {
    const client = new GenerationStreamClient({
      projectId,
      initialCursor: `${EPOCH}:${cursorSeq}`,
      openSource: tab.link.open,
      random,
      observer: (_p, frame) => {
        record.wire.push(frame.id);
        if (frame.applied) record.applied.push(frame.id);
      },
      onReset: (frame) => void record.resets.push(`${frame.reason} ${frame.cursor}`),
    });
    all.push(client);
    tab.clients.set(projectId, { ...record, client });
  };

  const newTab = (projects: readonly ProjectId[], carry?: ModelTab): ModelTab => {
    const name = `tab${++tabCount}`;
    const sink = (message: HolderMessage) =>
      net.push(`${name}<-holder`, `${message.sourceId} ${message.type} ${message.id ?? message.data ?? ""}`, () => link.receive(message));
    const link: TabLink = new TabLink(
      (message: TabMessage) => net.push(`${name}->holder`, describeMessage(message), () => holder.handle(sink, message)),
      name,
    );
    link.hello();
    const tab: ModelTab = { name, link, clients: new Map() };
    for (const projectId of projects) {
      const previous = carry?.clients.get(projectId);
      // A reload resumes from where the page was; a new tab from the log's head.
      const cursor = previous ? Number((previous.client.getSnapshot().cursor ?? `${EPOCH}:0`).split(":")[1]) : server.head(projectId);
      openClient(tab, projectId, cursor, previous ?? { applied: [], wire: [], resets: [], from: cursor });
    }
    tabs.push(tab);
    return tab;
  };

  for (let i = 0; i < options.tabs; i++) newTab(i % 3 === 2 ? PROJECTS : [PROJECTS[i % 2] as ProjectId]);

  let steps = 0;
  let published = 0;
  const chaos = () => {
    const roll = random();
    if (roll < 0.35) {
      if (published < options.events) {
        published++;
        const projectId = PROJECTS[Math.floor(random() * PROJECTS.length)] as ProjectId;
        net.trace.push(`chaos: publish ${projectId} ${EPOCH}:${server.log.length + 1}`);
        server.publish(projectId);
      }
    } else if (roll < 0.45) {
      const tab = tabs[Math.floor(random() * tabs.length)] as ModelTab;
      const entry = [...tab.clients.values()][Math.floor(random() * tab.clients.size)];
      if (entry) {
        net.trace.push(`chaos: ${tab.name} ${entry.client.projectId} retries`);
        entry.client.retry();
      }
    } else if (roll < 0.48) {
      const index = Math.floor(random() * tabs.length);
      const tab = tabs[index] as ModelTab;
      net.trace.push(`chaos: ${tab.name} reloads`);
      tab.link.bye();
      for (const entry of tab.clients.values()) entry.client.close();
      tabs.splice(index, 1);
      newTab([...tab.clients.keys()], tab);
    } else if (roll < 0.5) {
      // A new tab, its page rendered at the log's head: possibly ahead of what the holder has received.
      if (tabs.length < options.tabs + 3) {
        const projectId = PROJECTS[Math.floor(random() * PROJECTS.length)] as ProjectId;
        const tab = newTab([projectId]);
        net.trace.push(`chaos: ${tab.name} opens ${projectId} at the head`);
      }
    } else if (roll < 0.53) {
      if (server.killCurrent()) {
        drops++;
        net.trace.push("chaos: the shared socket dies");
      }
    } else if (roll < 0.56) {
      net.trace.push("chaos: timers advance");
      vi.advanceTimersToNextTimer();
    }
  };

  const settled = () =>
    server.log.length > 0 &&
    tabs.every((tab) =>
      [...tab.clients.values()].every((e) => {
        const s = e.client.getSnapshot();
        return s.status === "ready" && s.cursor === `${EPOCH}:${server.head(e.client.projectId as ProjectId)}`;
      }),
    );

  const problems: string[] = [];
  try {
    for (; steps < options.chaosSteps; steps++) {
      if (random() < 0.3) chaos();
      if (!net.step(random)) vi.advanceTimersToNextTimer();
      await microtasks();
    }
    // Quiet: no more chaos; deliver everything, and let backoffs run out, until every tab is at the head.
    for (let quiet = 0; !settled(); quiet++) {
      if (quiet > 20_000) {
        problems.push("the tabs did not settle at the log's head");
        break;
      }
      if (!net.step(random)) vi.advanceTimersToNextTimer();
      await microtasks();
    }
    for (const tab of tabs) {
      for (const [projectId, e] of tab.clients) {
        const expected = server.log.filter((l) => l.projectId === projectId && l.seq > e.from).map((l) => l.id);
        const label = `${tab.name} ${projectId}`;
        if (e.applied.join(",") !== expected.join(","))
          problems.push(`${label} applied ${e.applied.join(",")} but the log is ${expected.join(",")}`);
        if (e.wire.length !== e.applied.length) problems.push(`${label} was given ${e.wire.length - e.applied.length} events twice`);
        if (e.resets.length > 0) problems.push(`${label} was reset: ${e.resets.join("; ")}`);
        const s = e.client.getSnapshot();
        if (s.status !== "ready") problems.push(`${label} is ${s.status}`);
      }
    }
  } finally {
    for (const c of all) c.close();
    holder.close();
  }
  return { trace: net.trace, problems, stats: { steps, events: server.log.length, drops, sockets: holder.connectionsOpened } };
}

function describeMessage(message: TabMessage): string {
  switch (message.t) {
    case "open":
      return `open ${message.sourceId} ${message.projectId} from ${message.cursor}`;
    case "close":
      return `close ${message.sourceId}`;
    case "hello":
    case "bye":
      return message.t;
  }
}

async function microtasks(): Promise<void> {
  for (let i = 0; i < 8; i++) await Promise.resolve();
}

const SCHEDULES = Number(process.env.HOLDER_MODEL_SCHEDULES ?? 400);
const FIRST_SEED = Number(process.env.HOLDER_MODEL_FIRST_SEED ?? 1_000);

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("StreamHolder against a model server, seeded-random interleavings", () => {
  it(`loses, duplicates and resets nothing over ${SCHEDULES} schedules of drops, retries, reloads and lost answers`, async () => {
    const only = process.env.HOLDER_MODEL_SEED;
    const seeds = only ? [Number(only)] : Array.from({ length: SCHEDULES }, (_, i) => FIRST_SEED + i);
    let drops = 0;
    for (const seed of seeds) {
      // The shape varies with the seed too: few or many tabs, short or long chaos, quiet or busy projects.
      const shape = seededRandom(seed ^ 0x5bd1e995);
      const outcome = await runSchedule(seed, {
        tabs: 2 + Math.floor(shape() * 7),
        chaosSteps: 200 + Math.floor(shape() * 1_000),
        events: 10 + Math.floor(shape() * 70),
      });
      drops += outcome.stats.drops;
      if (outcome.problems.length > 0) {
        if (process.env.HOLDER_MODEL_TRACE) writeFileSync(process.env.HOLDER_MODEL_TRACE, `${outcome.trace.join("\n")}\n`);
        throw new Error(`seed ${seed}: ${outcome.problems.join("\n")}\n--- trace (last 400) ---\n${outcome.trace.slice(-400).join("\n")}`);
      }
    }
    // The chaos really happened.
    expect(drops).toBeGreaterThan(seeds.length / 2);
  }, 120_000);
});
