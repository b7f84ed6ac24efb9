import { measureBroadcast } from "./broadcast";
import { commandSchemas, type CommandName, type CommandReply, type CommandRequest, type CommandResults } from "./commands";
import { measureE2e } from "./e2e";
import { openConnections, subscribeMore } from "./pool";
import type { SseConnection } from "./sse-connection";
import { measureSteady } from "./steady";
import { finishTokens, startTokens } from "./tokens";

/**
 * The load client: a separate Node process holding every benchmark connection, driven over IPC by
 * bench/run.ts. Exits when the orchestrator goes away.
 */
const groups = new Map<string, SseConnection[]>();
/** Started with --expose-gc: a full GC before each measurement, so the client's own pauses stay out of it. */
const collect = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function groupOf(name: string): SseConnection[] {
  let conns = groups.get(name);
  if (!conns) groups.set(name, (conns = []));
  return conns;
}

async function execute(cmd: CommandName, raw: unknown): Promise<CommandResults[CommandName]> {
  switch (cmd) {
    case "open": {
      const a = commandSchemas.open.parse(raw);
      const conns = groupOf(a.group);
      return openConnections(a.target, a.projects, a.count, a.concurrency, conns.length, conns, a.kind);
    }
    case "subscribe": {
      const a = commandSchemas.subscribe.parse(raw);
      return subscribeMore(groupOf(a.group), a.projects, a.perConnection, a.concurrency);
    }
    case "close": {
      const a = commandSchemas.close.parse(raw);
      const conns = groupOf(a.group);
      const droppedBeforeClose = conns.filter((c) => c.closed).length;
      for (const c of conns) c.close();
      groups.delete(a.group);
      return { closed: conns.length, droppedBeforeClose };
    }
    case "broadcast": {
      const a = commandSchemas.broadcast.parse(raw);
      collect();
      return measureBroadcast(a.target, groupOf(a.group), a.projectId, a.tag, a.payloadBytes, a.deadlineMs);
    }
    case "steady": {
      const a = commandSchemas.steady.parse(raw);
      collect();
      return measureSteady(a.target, groupOf(a.group), a.projects, a.ratePerSec, a.durationMs, a.payloadBytes, a.tag, a.drainDeadlineMs);
    }
    case "e2e": {
      const a = commandSchemas.e2e.parse(raw);
      return measureE2e(a.baseUrl, a.target, a.accounts, a.sendsPerAccount, a.sends, a.content, a.awaitRun, a.deadlineMs);
    }
    case "tokens": {
      const a = commandSchemas.tokens.parse(raw);
      collect();
      return startTokens(a.baseUrl, a.target, a.projects, a.connectionsPerProject, a.concurrency, a.expectedChars, a.deadlineMs);
    }
    case "tokens-finish": {
      commandSchemas["tokens-finish"].parse(raw);
      return finishTokens();
    }
  }
}

function reply(message: CommandReply): void {
  process.send?.(message);
}

process.on("message", (message: CommandRequest) => {
  execute(message.cmd, message.args).then(
    (result) => reply({ id: message.id, ok: true, result }),
    (err: unknown) => reply({ id: message.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
process.on("disconnect", () => process.exit(0));
process.send?.({ id: 0, ok: true, result: "ready" } satisfies CommandReply);
