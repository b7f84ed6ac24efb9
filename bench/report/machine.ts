import { cpus, platform, release, totalmem } from "node:os";
import { openFilesLimit } from "../lib/proc";
import type { Machine } from "./types";

export function describeMachine(loadBefore: number, loadAfter: number): Machine {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? "unknown",
    node: process.version,
    platform: `${platform()} ${release()}`,
    totalMemoryBytes: totalmem(),
    openFilesLimit: openFilesLimit(process.pid),
    loadAverage1m: { before: loadBefore, after: loadAfter },
  };
}

/** How each figure is obtained, stored with the results so a JSON file explains itself. */
export const METHOD: Record<string, string> = {
  memory:
    "The app started as npm start does (production, its own database: DATABASE_URL's PostgreSQL, then a fresh PGlite directory), before any other server of the run. Idle: VmRSS after one /api/health answer and a full GC. Peak: the largest VmRSS sampled every 20 ms from message.send to the run's terminal event on the project's stream, over the embedded executor. After: idle again after the runs.",
  latency:
    "Receipt wall clock in the load client (performance.timeOrigin + performance.now(), taken when the socket's data arrives) minus the stamp the server put in the event's message just before publish (same clock, same machine). Identical on both servers: each has the same POST /api/test/projects/:id/publish trigger; Genstream's (bench/server/load-control.ts) calls the streaming service's publish().",
  fanout:
    "Per broadcast: p50/p99/max over every connection; the table shows the median of those over the measured broadcasts (warm-up broadcasts excluded). Broadcasts alternate between the servers; both hold their connections throughout.",
  steady:
    "Open-loop load paced by the server: each event is stamped with the time it was due, so a server that falls behind shows it as latency. A step is sustained when nothing is missed and the median latency of the events due in its last quarter is within max(3x, +50 ms) of the first quarter's (a server that falls behind queues: its lag grows by step length x overload). Server CPU = utime+stime from /proc/<pid>/stat around the step.",
  capacity:
    "Server RSS (VmRSS from /proc/<pid>/status) with N connections held, minus the same process's RSS after warm-up and before any benchmark connection (for Genstream that process also holds Next.js, PGlite and the TypeScript checker). Every sample follows a full GC in the server (SIGUSR2 hook preloaded by the bench, both servers). Per connection = (RSS - idle) / N at the top step. N is capped by the open-files limit (ulimit -n) of the server process.",
  redis:
    "Gs+Redis: the same app with REDIS_URL, its own PGlite, accounts and projects, own load client; fan-out and steady-state only. Its publish is an XADD (Lua, awaited); the connections are written when the process's XREAD BLOCK tail returns the entry, so its 'server publish' is the XADD round trip plus a tick and may or may not include those writes — its fan-out latency is the comparable figure. Every event crosses process boundaries (app -> Redis -> app), so it is more sensitive than the in-memory log to CPU contention on a loaded machine.",
  serverPublish:
    "Measured inside each server around one publish: from just before it to the setImmediate after it, i.e. serialisation, every res.write and the next-tick flush of the corked sockets (syscalls) — the server's whole share of a broadcast, independent of how fast the load client reads.",
  client:
    "One load-client process (raw net sockets with onread, hand-written HTTP/chunked/SSE parsing), started with --expose-gc and collecting before each measurement; its event-loop delay during each measurement is reported. With 2 cores, client and server compete: when the client's read time per socket exceeds the server's write time, end-to-end fan-out latency is client-bound for both servers.",
  setup:
    "The first segment of the capacity ramp: fresh connections (the first fan-out size) into an otherwise idle server, openConcurrency handshakes in flight; rate = ready connections / wall time; per connection, connect() to the `ready` frame. Includes the app's per-connection session and ownership checks; all these connections carry one account's cookie, so after the first handshake the session comes from the stream authorizer's 10 s cache (src/server/stream-authorizer.ts) and the project's owner from its owner cache — a browser's reconnects and tabs look like this; a storm of distinct users each pays one session query (PGlite) first.",
  ramp: "Each server's connections are opened once, by one ramp: the fan-out groups (one project each), the steady-state group (projects x perProject), then extra connections spread over the projects up to the top capacity step; the extra ones are closed after the RSS reading, the others are reused by the fan-out and steady-state phases. Each server has its own load-client process (open-files limit).",
  tokens:
    "Token streaming over a model: the local OpenAI-compatible fake model server (src/test/fake-model-server.ts, in the orchestrator process) streams its canned todo plan at tokenRate chunks/s of tokenSize characters to every request, and records when it writes each chunk (performance.timeOrigin + performance.now(), just before res.write) and which characters it ends at. Per variant a fresh app (tsx server.ts, production, LLM_BASE_URL at the fake server, LLM_MODEL=fake; coalesced: LLM_STREAM_FLUSH_MS unset, uncoalesced: 0) and embedded executor; in full mode one warm-up generation first. Then N projects x M streams held up to `ready`, one message.send per project all at once, every step.text event recorded on every connection until each has run.completed. The fake server holds the N answers until all N requests have arrived (then streams them together, first tokens spread over one token interval) and holds each answer's end (finish_reason, [DONE]) until every connection has the whole text, so no plan step completes while text streams. Correctness: every text event on every connection, each connection's text contiguous by offset, one attempt, the text equal to the model's, one model request per generation. Latency per chunk: the text events are matched by character offset (the text is deterministic): the first event whose text ends at or after the chunk's end completed it; latency = that event's receipt on the last (every) / first connection minus the chunk's write time, same clock, same machine. Events per connection per second: a connection's text events / its generation's streaming time (first to last chunk written). Server CPU per delivered token: the app process's utime+stime (/proc/<pid>/stat, sampled every 20 ms, interpolated) from the first chunk written to the receipt that gave the last connection the whole text (no send, no earlier or later step in it: the answers are held at both ends), divided by chunks x connections (all of them are delivered in that window). When the app cannot keep up, the window stretches until it has caught up, so the CPU of the backlog is counted. The executor's CPU is not counted.",
  e2e: "A fresh project and stream per send; time from calling message.send (tRPC over HTTP, superjson) to the run.started frame on that stream, through the embedded Inngest executor. Each send waits for the previous run to finish.",
};
