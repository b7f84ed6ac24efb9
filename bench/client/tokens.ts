import { z } from "zod";
import type { Account } from "../lib/accounts";
import { trpcMutation } from "../lib/trpc";
import { completion } from "./deadline";
import { watchLoop, type LoopDelay } from "./loop-delay";
import { openConnections } from "./pool";
import type { SseConnection, Target } from "./sse-connection";

/** One project of the token phase: its owner's cookie and the message that starts its generation. */
export interface TokenProject {
  id: string;
  cookie: string;
  content: string;
}

/** A text event of a project's stream, as its connections received it (one record per event id). */
export interface TextEventReceipt {
  id: string;
  runId: string;
  attempt: number;
  /** The characters [offset, end) of the attempt's text. */
  offset: number;
  end: number;
  text: string;
  /** Receipt wall clock on each connection that got it (performance.timeOrigin + performance.now()), in arrival order. */
  receipts: number[];
}

export interface TokenProjectResult {
  projectId: string;
  /** Connections that reached `ready` (the phase asks for `connectionsPerProject`). */
  connections: number;
  /** message.send called (wall clock). */
  sentAt: number;
  sendError: string | null;
  /** Text events in the order the first connection to get each one got it. */
  events: TextEventReceipt[];
  /** Text events per connection (every connection should have them all). */
  textEventsPerConnection: number[];
  /** Terminal event type -> connections that received it. */
  terminal: Record<string, number>;
  /** A connection saw a text event that does not continue its attempt's text (a gap, a repeat, an overlap). */
  orderErrors: string[];
  /** Connections the server closed before the run ended. */
  dropped: number;
}

export interface TokensResult {
  projects: TokenProjectResult[];
  openFailures: string[];
  /** All connections ready -> every connection's terminal event. */
  wallMs: number;
  timedOut: boolean;
  clientLoop: LoopDelay;
}

/** The fields of a `step.text` event the benchmark reads (src/streaming/protocol.ts has the full schema). */
const stepTextSchema = z.object({
  type: z.literal("step.text"),
  runId: z.string(),
  attempt: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  text: z.string(),
});
const frameSchema = z.object({ id: z.string(), event: z.looseObject({ type: z.string() }) });
const TERMINAL = new Set(["run.completed", "run.failed", "run.cancelled"]);

type Classified = { kind: "text"; record: TextEventReceipt } | { kind: "terminal"; type: string } | { kind: "other" };

const wallClock = (): number => performance.timeOrigin + performance.now();

/** The progress frame's id without parsing it: the server writes `{"id":"<cursor>",...` (src/streaming/sse.ts). */
function frameId(data: string): string | null {
  if (!data.startsWith('{"id":"')) return null;
  const end = data.indexOf('"', 7);
  return end === -1 ? null : data.slice(7, end);
}

/**
 * One project's receipts. Every connection of a project gets the same frames, so each event is parsed
 * once (by id) and each connection only adds its receipt time and checks that the event continues
 * its own copy of the attempt's text.
 */
class ProjectReceipts {
  readonly byId = new Map<string, Classified>();
  readonly events: TextEventReceipt[] = [];
  readonly textCounts: number[];
  readonly terminal: Record<string, number> = {};
  readonly orderErrors: string[] = [];
  /** Per connection: attempt key -> the offset its next text event must start at. */
  private readonly nextOffset: Array<Map<string, number>>;
  private readonly ended: boolean[];
  private readonly textDone: boolean[];
  /** Connections still waiting for their run's terminal event. */
  outstanding: number;
  /** Connections that do not have the whole text yet. */
  textOutstanding: number;

  constructor(
    readonly conns: SseConnection[],
    /** The length of the text every connection must end up with (the model's whole answer). */
    private readonly expectedChars: number,
    private readonly onTextDone: (at: number) => void,
    private readonly onEnded: () => void,
  ) {
    this.textCounts = conns.map(() => 0);
    this.nextOffset = conns.map(() => new Map<string, number>());
    this.ended = conns.map(() => false);
    this.textDone = conns.map(() => false);
    this.outstanding = conns.length;
    this.textOutstanding = conns.length;
  }

  classify(data: string): Classified {
    const id = frameId(data);
    const known = id === null ? undefined : this.byId.get(id);
    if (known) return known;
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return { kind: "other" };
    }
    const parsed = frameSchema.safeParse(json);
    if (!parsed.success) return { kind: "other" };
    const { event } = parsed.data;
    let classified: Classified = { kind: "other" };
    if (event.type === "step.text") {
      const t = stepTextSchema.parse(event);
      const record: TextEventReceipt = {
        id: parsed.data.id,
        runId: t.runId,
        attempt: t.attempt,
        offset: t.offset,
        end: t.offset + t.text.length,
        text: t.text,
        receipts: [],
      };
      this.events.push(record);
      classified = { kind: "text", record };
    } else if (TERMINAL.has(event.type)) {
      classified = { kind: "terminal", type: event.type };
    }
    this.byId.set(parsed.data.id, classified);
    return classified;
  }

  onFrame(slot: number, event: string, data: string, receivedAt: number): void {
    if (event === "ready" || event === "ping" || !data.startsWith("{")) return;
    const c = this.classify(data);
    if (c.kind === "text") {
      const r = c.record;
      r.receipts.push(receivedAt);
      this.textCounts[slot] = (this.textCounts[slot] ?? 0) + 1;
      const offsets = this.nextOffset[slot];
      const key = `${r.runId}:${r.attempt}`;
      const expected = offsets?.get(key) ?? 0;
      if (r.offset !== expected && this.orderErrors.length < 20)
        this.orderErrors.push(`connection ${slot}: ${r.id} starts at ${r.offset}, its text so far ends at ${expected}`);
      offsets?.set(key, r.end);
      if (r.end >= this.expectedChars) this.doneWithText(slot, receivedAt);
    } else if (c.kind === "terminal") {
      this.terminal[c.type] = (this.terminal[c.type] ?? 0) + 1;
      this.end(slot, receivedAt);
    } else if (event === "error" || event === "close" || event === "reset") {
      this.orderErrors.push(`connection ${slot}: ${event} frame ${data.slice(0, 200)}`);
    }
  }

  /** The connection's run ended, or the connection did (nothing more will arrive on it). */
  end(slot: number, at: number): void {
    this.doneWithText(slot, at);
    if (this.ended[slot]) return;
    this.ended[slot] = true;
    if (--this.outstanding === 0) this.onEnded();
  }

  private doneWithText(slot: number, at: number): void {
    if (this.textDone[slot]) return;
    this.textDone[slot] = true;
    if (--this.textOutstanding === 0) this.onTextDone(at);
  }
}

export interface TokensTextResult {
  /** Receipt time of the text event that gave the last connection its whole text (NaN when none did). */
  textCompleteAt: number;
  /** The deadline passed before every connection had the whole text. */
  timedOut: boolean;
}

interface Session {
  perProject: SseConnection[][];
  receipts: ProjectReceipts[];
  projects: TokenProject[];
  sends: Array<{ sentAt: number; error: string | null }>;
  openFailures: string[];
  ended: ReturnType<typeof completion>;
  started: number;
  loop: () => LoopDelay;
}

/** One token run at a time: `tokens` starts it, `tokens-finish` ends it (the load client is one process). */
let session: Session | null = null;

/**
 * Token streaming as users see it, first half: `connectionsPerProject` streams of each project up to
 * `ready`, then one message.send per project (all at once, each with one of its project's ready
 * connectionIds), then every text event recorded on every connection; resolves when every connection
 * has the whole text (`expectedChars`) — the model server holds the ends of its answers meanwhile, so
 * no run has moved past its text yet. `finishTokens` waits for the runs to end and reports. Latency
 * is computed by the orchestrator, which knows when the model server wrote each chunk.
 */
export async function startTokens(
  baseUrl: string,
  target: Target,
  projects: TokenProject[],
  connectionsPerProject: number,
  concurrency: number,
  expectedChars: number,
  deadlineMs: number,
): Promise<TokensTextResult> {
  if (session !== null) throw new Error("a token run is already in progress");
  const openFailures: string[] = [];
  const perProject: SseConnection[][] = [];
  for (const p of projects) {
    const conns: SseConnection[] = [];
    const opened = await openConnections(target, [{ id: p.id, cookie: p.cookie }], connectionsPerProject, concurrency, 0, conns);
    openFailures.push(...opened.errors);
    perProject.push(conns);
  }
  const text = completion(deadlineMs);
  const ended = completion(deadlineMs);
  let textCompleteAt = Number.NaN;
  const receipts = perProject.map(
    (conns) =>
      new ProjectReceipts(
        conns,
        expectedChars,
        (at) => {
          textCompleteAt = Math.max(Number.isNaN(textCompleteAt) ? at : textCompleteAt, at);
          if (--textOutstanding === 0) text.done();
        },
        () => {
          if (--projectsOutstanding === 0) ended.done();
        },
      ),
  );
  // A project without a ready connection has nothing to wait for (its open failures are reported).
  let projectsOutstanding = receipts.filter((r) => r.outstanding > 0).length;
  let textOutstanding = receipts.filter((r) => r.textOutstanding > 0).length;
  if (projectsOutstanding === 0) ended.done();
  if (textOutstanding === 0) text.done();
  receipts.forEach((r, i) => {
    (perProject[i] ?? []).forEach((conn, slot) => {
      conn.onFrame = (_c, event, data, receivedAt) => r.onFrame(slot, event, data, receivedAt);
      conn.onClose = () => r.end(slot, wallClock());
    });
  });
  const started = performance.now();
  const loop = watchLoop();
  const sends = await Promise.all(
    projects.map(async (p, i) => {
      const sentAt = wallClock();
      const connectionId = perProject[i]?.[0]?.connectionId;
      const fail = (error: string) => {
        receipts[i]?.conns.forEach((_c, slot) => receipts[i]?.end(slot, wallClock()));
        return { sentAt, error };
      };
      if (!connectionId) return fail("no ready connection");
      const account: Account = { cookie: p.cookie };
      try {
        await trpcMutation(baseUrl, "message.send", { projectId: p.id, content: p.content, connectionId }, account);
        return { sentAt, error: null };
      } catch (err) {
        return fail(err instanceof Error ? err.message : String(err));
      }
    }),
  );
  session = { perProject, receipts, projects, sends, openFailures, ended, started, loop };
  text.arm();
  const { timedOut } = await text.promise;
  return { textCompleteAt, timedOut };
}

/** Second half: waits until every connection has its run's terminal event, closes them, reports. */
export async function finishTokens(): Promise<TokensResult> {
  const s = session;
  if (s === null) throw new Error("no token run in progress");
  session = null;
  s.ended.arm();
  const { timedOut } = await s.ended.promise;
  const wallMs = performance.now() - s.started;
  const clientLoop = s.loop();
  const result: TokenProjectResult[] = s.receipts.map((r, i) => {
    const conns = s.perProject[i] ?? [];
    const dropped = conns.filter((c) => c.closed).length;
    for (const c of conns) c.close();
    return {
      projectId: s.projects[i]?.id ?? "",
      connections: conns.length,
      sentAt: s.sends[i]?.sentAt ?? Number.NaN,
      sendError: s.sends[i]?.error ?? null,
      events: r.events,
      textEventsPerConnection: r.textCounts,
      terminal: r.terminal,
      orderErrors: r.orderErrors,
      dropped,
    };
  });
  return { projects: result, openFailures: [...new Set(s.openFailures)].slice(0, 5), wallMs, timedOut, clientLoop };
}
