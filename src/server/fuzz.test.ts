/**
 * Property-based fuzzing of every tRPC input (through the real fetch handler, so HTTP statuses are
 * checked) and of the stream's `?cursor=` and `Last-Event-ID` (through a real node:http server over
 * raw sockets). Every case must get a typed error or a valid answer — never a 5xx, never a hung
 * connection — and every rejected case must leave every table's row count as it was.
 */
import fc from "fast-check";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "./root";
import { createProject } from "../db/queries/projects";
import { insertUserMessageWithinRate, setDispatch } from "../db/queries/messages";
import { ensureRun } from "../db/queries/runs";
import { saveArtifact } from "../db/queries/artifacts";
import { testDatabaseTargets } from "../test/databases";
import { openAppFixture, type AppFixture } from "../test/app-fixture";
import { signUpTestUser, type TestAccount } from "../test/auth";
import { percentEncode, probeStream, type ProbeOutcome } from "../test/raw-stream-probe";
import { progressEvent } from "../streaming/test-harness";

const RUNS = 1_000;
/** Generous: a healthy answer takes milliseconds. Reaching it means a hung connection, a failure. */
const HANG_LIMIT_MS = 5_000;

/** Rows a successful call of each mutation adds; queries add none. */
const ADDS: Record<string, Partial<Record<string, number>>> = {
  "project.create": { projects: 1 },
  "message.send": { messages: 1 },
  // A cancel finishes the run, which writes the assistant's reply.
  "generation.cancel": { messages: 1 },
};

const procedures = Object.entries(appRouter._def.procedures).map(([path, procedure]) => ({
  path,
  type: (procedure as unknown as { _def: { type: "query" | "mutation" | "subscription" } })._def.type,
}));

/** The answer, or "hung" if it is not complete within HANG_LIMIT_MS (a bound, not synchronisation: reaching it fails the case). */
async function withinHangLimit<T>(answer: Promise<T>): Promise<T | "hung"> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<"hung">((resolve) => {
    timer = setTimeout(() => resolve("hung"), HANG_LIMIT_MS);
  });
  try {
    return await Promise.race([answer, hung]);
  } finally {
    clearTimeout(timer);
  }
}

const caseCounts: Record<string, number> = {};
/** Answers seen per target (HTTP status, or stream outcome), printed to show what the fuzzer reached. */
const outcomes: Record<string, Record<string, number>> = {};
function tally(target: string, outcome: string): void {
  const seen = (outcomes[target] ??= {});
  seen[outcome] = (seen[outcome] ?? 0) + 1;
}

// The first target (PGlite) only: the same code path against PostgreSQL is covered by access.test.ts.
const target = testDatabaseTargets()[0];
if (!target) throw new Error("no test database");

describe(`fuzzing against ${target.name}`, () => {
  let app: AppFixture;
  let owner: TestAccount;
  let other: TestAccount;
  const ids = {
    ownerProject: "",
    otherProject: "",
    connectionId: "",
    failedMessage: "",
    runId: "",
    version: 1,
    epoch: "",
  };

  beforeAll(async () => {
    // Streams are opened by the thousand; the per-user limit has its own test (limits.test.ts).
    app = await openAppFixture(target.target, { maxStreamsPerUser: 1_000_000 });
    owner = await signUpTestUser(app.auth, "owner");
    other = await signUpTestUser(app.auth, "other");
    const db = app.handle.db;
    ids.ownerProject = (await createProject(db, owner.userId, "Fuzzed")).id;
    ids.otherProject = (await createProject(db, other.userId, "Someone else's")).id;
    ids.connectionId = await app.connect(ids.ownerProject, owner.cookie);
    const message = await insertUserMessageWithinRate(db, {
      ownerId: owner.userId,
      projectId: ids.ownerProject,
      content: "m",
      perMinute: 1_000,
    });
    if (!message) throw new Error("message not stored");
    await setDispatch(db, message.id, "failed");
    ids.failedMessage = message.id;
    ids.runId = `run-${crypto.randomUUID()}`;
    await ensureRun(db, { runId: ids.runId, projectId: ids.ownerProject, messageId: message.id, startedAt: new Date() });
    ids.version = (
      await saveArtifact(db, { projectId: ids.ownerProject, runId: ids.runId, messageId: message.id, plan: {}, openapi: "{}", files: [] })
    ).version;
    for (let n = 1; n <= 30; n++) await app.streaming.publish(ids.ownerProject, `fuzz-${n}`, progressEvent(ids.ownerProject, n));
    ids.epoch = (await app.streaming.head(ids.ownerProject)).split(":")[0] ?? "";
  });

  afterAll(async () => {
    await app?.close();
    // Printed so a run shows how much was actually tried.
    console.log(`fuzz cases per target: ${JSON.stringify(caseCounts)}\nanswers per target: ${JSON.stringify(outcomes)}`);
  });

  const junkString = fc.oneof(
    fc.string({ unit: "binary", maxLength: 80 }),
    fc.string({ unit: "grapheme", maxLength: 40 }),
    fc.string({ unit: "binary-ascii", minLength: 7_990, maxLength: 8_020 }),
    fc.constantFrom(
      "",
      "   ",
      "nosuchproject",
      "../../etc/passwd",
      "<img src=x onerror=alert(1)>",
      "<script>alert(1)</script>",
      "'; drop table projects; --",
      "\u0000",
      "%00",
      "__proto__",
      "constructor",
      "\u202e\u0000\ud800",
      "x".repeat(70_000),
    ),
  );
  const anyValue = fc.oneof(
    { depthSize: "small" },
    junkString,
    fc.jsonValue({ maxDepth: 3 }),
    fc.integer(),
    fc.double(),
    fc.bigInt().map(String),
    fc.constantFrom(null, true, false, 0, -1, 2 ** 31, 2 ** 53, Number.MAX_VALUE, 1e308),
    fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 5 }),
    fc.dictionary(junkString, fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }),
  );

  function inputArb() {
    const field = {
      projectId: fc.oneof(fc.constantFrom(ids.ownerProject, ids.otherProject, ids.ownerProject.toUpperCase()), anyValue),
      name: fc.oneof(fc.string({ maxLength: 100 }), anyValue),
      content: fc.oneof(
        fc.constantFrom("A shop API with items (name)", "<img src=x onerror=alert(1)>"),
        fc.string({ maxLength: 200 }),
        anyValue,
      ),
      connectionId: fc.oneof(fc.constant(ids.connectionId), fc.uuid(), anyValue),
      messageId: fc.oneof(fc.constant(ids.failedMessage), anyValue),
      runId: fc.oneof(fc.constant(ids.runId), anyValue),
      version: fc.oneof(fc.constant(ids.version), fc.integer(), anyValue),
    };
    return fc.oneof(
      anyValue,
      fc.record(field, { requiredKeys: [] }),
      fc.record({ ...field, extra: anyValue }, { requiredKeys: ["projectId"] }),
    );
  }

  const cookieArb = fc.constantFrom("owner", "owner", "owner", "owner", "other", "none", "forged");
  type Who = "owner" | "other" | "none" | "forged";

  function cookieFor(who: Who): Record<string, string> {
    if (who === "owner") return { cookie: owner.cookie };
    if (who === "other") return { cookie: other.cookie };
    if (who === "forged") return { cookie: `${owner.cookie.split("=")[0] ?? "x"}=forged.${"A".repeat(43)}` };
    return {};
  }

  /** One HTTP request as a client could shape it: envelope or raw junk, single or batch, right or wrong method. */
  function requestArb(path: string, type: string) {
    return fc
      .record({
        who: cookieArb,
        shape: fc.constantFrom("envelope", "envelope", "envelope", "meta", "raw", "batch"),
        input: inputArb(),
        meta: anyValue,
        raw: fc.oneof(junkString, fc.constantFrom("{", "[]", '{"json":', "null", '{"0":{"json":1}}')),
        wrongMethod: fc.nat(9).map((n) => n === 0),
      })
      .map((spec) => ({ ...spec, path, type }));
  }

  type RequestSpec = ReturnType<typeof requestArb> extends fc.Arbitrary<infer T> ? T : never;

  function toRequest(spec: RequestSpec): Request {
    const envelope = spec.shape === "meta" ? { json: spec.input, meta: spec.meta } : { json: spec.input };
    const text = spec.shape === "raw" ? spec.raw : JSON.stringify(spec.shape === "batch" ? { 0: envelope } : envelope);
    const query = (spec.type === "query") !== spec.wrongMethod;
    const batch = spec.shape === "batch" ? "batch=1&" : "";
    const headers = { ...cookieFor(spec.who), "content-type": "application/json" };
    const base = `http://127.0.0.1/api/trpc/${spec.path}`;
    return query
      ? new Request(`${base}?${batch}input=${percentEncode(text)}`, { headers })
      : new Request(`${base}${batch ? "?batch=1" : ""}`, { method: "POST", headers, body: text });
  }

  /** A successful answer went to a signed-in caller, about their own project if it names one. */
  function expectOwnAnswer(spec: RequestSpec): void {
    expect(["owner", "other"]).toContain(spec.who);
    const projectId = typeof spec.input === "object" && spec.input !== null && "projectId" in spec.input ? spec.input.projectId : undefined;
    if (spec.path.startsWith("project.") && spec.path !== "project.get") return;
    expect(projectId).toBe(spec.who === "owner" ? ids.ownerProject : ids.otherProject);
  }

  it.each(procedures)(
    "$path: every fuzzed input gets a typed answer, never a 5xx; rejected inputs change nothing",
    async ({ path, type }) => {
      let ran = 0;
      // A query writes nothing: counted around the whole run. A mutation: around every case.
      const perCase = type === "mutation";
      const start = await app.counts();
      await fc.assert(
        fc.asyncProperty(requestArb(path, type), async (spec) => {
          ran++;
          const before = perCase ? await app.counts() : start;
          const answer = (async () => {
            const response = await fetchRequestHandler({
              endpoint: "/api/trpc",
              req: toRequest(spec),
              router: appRouter,
              createContext: ({ req }) => app.context(req.headers),
            });
            return { response, text: await response.text() };
          })();
          const answered = await withinHangLimit(answer);
          expect(answered, `${path} hung: no complete answer within ${HANG_LIMIT_MS} ms`).not.toBe("hung");
          if (answered === "hung") return;
          const { response, text } = answered;
          tally(path, String(response.status));
          expect(response.status, text.slice(0, 300)).toBeLessThan(500);
          expect(() => JSON.parse(text) as unknown).not.toThrow();
          const ok = response.status === 200;
          if (ok) expectOwnAnswer(spec);
          if (!perCase) return;
          const after = await app.counts();
          const adds = ok ? (ADDS[path] ?? {}) : {};
          for (const [table, n] of Object.entries(before))
            expect(after[table], `${table} after ${path} (${response.status})`).toBe(n + (adds[table] ?? 0));
        }),
        { numRuns: RUNS },
      );
      if (!perCase) expect(await app.counts()).toEqual(start);
      caseCounts[path] = ran;
    },
  );

  describe("the stream", () => {
    const cursorArb = () =>
      fc.oneof(
        junkString,
        fc
          .tuple(
            fc.constantFrom(ids.epoch, "otherepoch", ""),
            fc.oneof(fc.nat(40), fc.integer(), fc.double(), fc.constantFrom(1e15, 999_999_999_999_999)),
          )
          .map(([epoch, seq]) => `${epoch}:${seq}`),
        fc.constant(`${ids.epoch}:0`),
      );

    /** The request head, bytes as given (latin1): a header value may hold anything, CR and LF included. */
    function head(query: string, headers: Record<string, string>): string {
      const lines = [`GET /api/projects/${ids.ownerProject}/events${query} HTTP/1.1`, "Host: 127.0.0.1", "Accept: text/event-stream"];
      for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
      return `${lines.join("\r\n")}\r\n\r\n`;
    }

    function expectConclusive(outcome: ProbeOutcome, who: Who): void {
      expect(outcome.kind, JSON.stringify(outcome)).not.toBe("hung");
      if (outcome.kind === "status") expect(outcome.status).toBeLessThan(500);
      // A connection that ends without a complete answer (no status, or a 200 stream without ready/reset/error) is a failure;
      // a reset right after a complete 4xx answer (Node's parser refusing the request) is not.
      if (outcome.kind === "closed")
        expect(outcome.status !== null && outcome.status >= 400 && outcome.status < 500, JSON.stringify(outcome)).toBe(true);
      if (outcome.kind === "event" && outcome.event === "error") expect(outcome.data).not.toContain("INTERNAL");
      // The owner is never refused; anyone else never gets further than an error frame.
      if (outcome.kind === "event") expect(outcome.event === "error").toBe(who !== "owner");
    }

    async function fuzzStream(label: string, requests: fc.Arbitrary<{ query: string; headers: Record<string, string> }>) {
      let ran = 0;
      const before = await app.counts();
      const port = Number(new URL(app.baseUrl).port);
      await fc.assert(
        fc.asyncProperty(requests, cookieArb, async ({ query, headers }, who) => {
          ran++;
          const outcome = await probeStream(port, head(query, { ...headers, ...cookieFor(who) }), HANG_LIMIT_MS);
          tally(label, outcome.kind === "event" ? outcome.event : outcome.kind === "status" ? String(outcome.status) : outcome.kind);
          expectConclusive(outcome, who);
        }),
        { numRuns: RUNS },
      );
      expect(await app.counts()).toEqual(before);
      caseCounts[label] = ran;
    }

    it("?cursor=: any value gets ready, reset or a typed error frame, never a 5xx or a hang", async () => {
      // Unencoded bytes in the request line make a malformed request, which Node's parser answers 400.
      const requests = fc.tuple(cursorArb(), fc.boolean()).map(([cursor, encoded]) => ({
        query: `?cursor=${encoded ? percentEncode(cursor) : Buffer.from(cursor, "utf8").toString("latin1")}`,
        headers: {},
      }));
      await fuzzStream("stream ?cursor=", requests);
    });

    it("Last-Event-ID: any header value (bytes no client would send included) gets a typed answer, never a 5xx or a hang", async () => {
      const requests = fc.tuple(cursorArb(), fc.option(cursorArb())).map(([lastEventId, cursor]) => ({
        query: cursor === null ? "" : `?cursor=${percentEncode(cursor)}`,
        headers: { "Last-Event-ID": Buffer.from(lastEventId, "utf8").toString("latin1") },
      }));
      await fuzzStream("stream Last-Event-ID", requests);
    });
  });
});
