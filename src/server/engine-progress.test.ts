import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDb, type DbHandle } from "../db/client";
import { insertUserMessage } from "../db/queries/messages";
import { createProject } from "../db/queries/projects";
import { ensureRun } from "../db/queries/runs";
import type { LoggedEvent } from "../streaming/protocol";
import { insertTestUser } from "../test/users";
import { engineReadKey, engineRunProgress, type EngineProgressDeps } from "./engine-progress";

const KEY = `signkey-test-${"ab".repeat(32)}`;
const RUN = "01JR0000000000000000000001";
const OTHER_RUN = "01JR0000000000000000000002";

describe("engineRunProgress", () => {
  let db: DbHandle;
  let deps: EngineProgressDeps;
  let projectId: string;
  let log: LoggedEvent[];

  beforeAll(async () => {
    db = await openDb({ kind: "pglite", dir: null });
    const project = await createProject(db.db, (await insertTestUser(db.db)).id, "P");
    projectId = project.id;
    const message = await insertUserMessage(db.db, project.id, "A shop API with items (name)");
    await ensureRun(db.db, { runId: RUN, projectId, messageId: message.id, startedAt: new Date() });
    const at = Date.now();
    const ref = { projectId, messageId: message.id, at };
    log = [
      { id: "e1:1", key: `${RUN}:run.started`, event: { type: "run.started", ...ref, runId: RUN, steps: ["load-context"] } },
      { id: "e1:2", key: `${OTHER_RUN}:run.started`, event: { type: "run.started", ...ref, runId: OTHER_RUN, steps: ["load-context"] } },
      {
        id: "e1:3",
        key: `${RUN}:load-context:started:0`,
        event: { type: "step.started", ...ref, runId: RUN, step: "load-context", attempt: 0 },
      },
    ] as LoggedEvent[];
    deps = { db: db.db, streaming: { retained: async (id) => (id === projectId ? log : []) }, engineKey: KEY };
  });
  afterAll(async () => {
    await db.close();
  });

  it("answers the run's own events from its project's log, with their ids and keys, to the signing key", async () => {
    const answer = await engineRunProgress(deps, `Bearer ${KEY}`, RUN);
    expect(answer).toEqual({ status: 200, body: { runId: RUN, projectId, events: [log[0], log[2]] } });
  });

  it("refuses without the key, with a wrong one, and entirely when the app has none", async () => {
    expect((await engineRunProgress(deps, null, RUN)).status).toBe(401);
    expect((await engineRunProgress(deps, `Bearer ${KEY}0`, RUN)).status).toBe(401);
    expect((await engineRunProgress(deps, KEY, RUN)).status).toBe(401);
    const keyless = await engineRunProgress({ ...deps, engineKey: undefined }, `Bearer ${KEY}`, RUN);
    expect(keyless).toMatchObject({ status: 503, body: { error: expect.stringContaining("INNGEST_SIGNING_KEY") } });
  });

  it("says 400 for a malformed run id and 404 for a run the app never stored", async () => {
    expect(await engineRunProgress(deps, `Bearer ${KEY}`, "nope")).toMatchObject({
      status: 400,
      body: { error: expect.stringContaining("ULID") },
    });
    expect(await engineRunProgress(deps, `Bearer ${KEY}`, OTHER_RUN)).toMatchObject({ status: 404 });
  });

  it("the engine reads with the signing key when there is one, else with the development token", () => {
    const token = "t".repeat(40);
    expect(engineReadKey({ INNGEST_SIGNING_KEY: KEY, GENSTREAM_ENGINE_TOKEN: token })).toBe(KEY);
    expect(engineReadKey({ GENSTREAM_ENGINE_TOKEN: token })).toBe(token);
    expect(engineReadKey({})).toBeUndefined();
  });
});
