import { NonRetriableError } from "inngest";
import { inngest } from "../client";
import { apiCancel, apiIterate } from "../events";
import { defaultDeps } from "../deps";
import { RunReporter, type ReporterDeps } from "../run-reporter";
import { findMessage, upsertAssistantMessage } from "../../src/db/queries/messages";
import { latestArtifact, saveArtifact } from "../../src/db/queries/artifacts";
import { finishRun, findRun } from "../../src/db/queries/runs";
import {
  apiPlanSchema,
  describePlan,
  generateCode,
  generateOpenApi,
  parseRequest,
  validateOpenApi,
  checkTypeScript,
  warmTypeScriptChecker,
  type ApiPlan,
  type ParseResult,
} from "../../src/generation";
import { assistantReply, failureReply } from "./replies";
import { testControlsEnabled } from "../../src/server/test-controls";
import { withInjectedFaults } from "../../src/server/faults";

export const GENERATE_API_RETRIES = 2;

/**
 * Generates (or iterates on) a project's API from one user message, step by step, publishing
 * progress to the project's stream. One run per project at a time; one run per message.
 */
export function createGenerateApi(getDeps: () => Promise<ReporterDeps> = defaultDeps) {
  return inngest.createFunction(
    {
      id: "generate-api",
      name: "Generate API",
      triggers: [apiIterate],
      concurrency: [{ key: "event.data.projectId", limit: 1 }],
      idempotency: "event.data.messageId",
      cancelOn: [{ event: apiCancel, match: "data.messageId" }],
      retries: GENERATE_API_RETRIES,
      onFailure: async ({ event, error }) => {
        const deps = await getDeps();
        const original = apiIterate.schema.parse(event.data.event.data);
        const runId = event.data.run_id;
        const run = await findRun(deps.db, runId);
        const failedStep = run?.steps.find((s) => s.state === "running")?.name;
        const reason = error.message || "The generation failed";
        const reporter = new RunReporter(deps, { ...original, runId });
        const finished = await finishRun(deps.db, runId, "failed", reason, failedStep);
        if (run && finished) {
          await upsertAssistantMessage(deps.db, {
            id: `a${runId.toLowerCase()}`,
            projectId: original.projectId,
            runId,
            content: failureReply(reason, failedStep),
            artifactVersion: null,
          });
        }
        await reporter.failed(reason, failedStep, run ? Date.now() - run.startedAt.getTime() : null);
        deps.log.warn({ projectId: original.projectId, runId, step: failedStep, reason }, "run failed");
      },
    },
    async ({ event, step, runId, attempt }) => {
      const deps = await getDeps();
      const { projectId, messageId } = event.data;
      const reporter = new RunReporter(deps, { projectId, messageId, runId });
      // Test-only: a registered fault may fail or hold a step (never when test controls are off).
      if (testControlsEnabled()) withInjectedFaults(reporter, { projectId, runId });

      const context = await step.run("load-context", async () => {
        // Memoized with the step, so every later invocation of this handler sees the run's real start.
        const startedAt = Date.now();
        // The checker's worker starts now (it was ended when idle), so it is warm by the validate step.
        warmTypeScriptChecker();
        await reporter.start();
        return reporter.step("load-context", attempt, async (report) => {
          const message = await findMessage(deps.db, messageId);
          if (!message || message.projectId !== projectId) throw new NonRetriableError(`Message ${messageId} does not exist`);
          const previous = await latestArtifact(deps.db, projectId);
          const previousPlan = previous ? apiPlanSchema.parse(previous.plan) : null;
          await report(previous ? `iterating on version ${previous.version}` : "new API");
          return { value: { content: message.content, previousPlan, startedAt }, summary: previous ? `version ${previous.version}` : "first version" };
        });
      });

      const planned = await step.run("plan", () =>
        reporter.step<ParseResult>("plan", attempt, async (report) => {
          const result = parseRequest(context.content, context.previousPlan as ApiPlan | null);
          if (!result.ok) return { value: result, summary: "not understood" };
          const lines = describePlan(result.plan);
          for (const [i, line] of lines.entries()) await report(line, { fraction: (i + 1) / lines.length });
          return { value: result, summary: `${result.plan.resources.length} resources` };
        }),
      );

      if (!planned.ok) {
        // Nothing to generate: answer with what was understood and an example, and end the run.
        const reply = await step.run("save", () =>
          reporter.step("save", attempt, async () => {
            const saved = await upsertAssistantMessage(deps.db, { id: `a${runId.toLowerCase()}`, projectId, runId, content: planned.reply, artifactVersion: null });
            await finishRun(deps.db, runId, "completed", null);
            return { value: saved.id, summary: "reply saved" };
          }),
        );
        await step.run("complete", () => reporter.completed({ durationMs: Date.now() - context.startedAt, assistantMessageId: reply, artifactVersion: null }));
        return { status: "not-understood" as const };
      }
      const plan = planned.plan;

      const openapi = await step.run("generate-openapi", () =>
        reporter.step("generate-openapi", attempt, async (report) => {
          const doc = generateOpenApi(plan);
          const text = JSON.stringify(doc, null, 2);
          const paths = Object.keys(doc.paths ?? {});
          for (const [i, p] of paths.entries()) await report(`path ${p}`, { fraction: (i + 1) / paths.length });
          await report("document ready", { partial: text.slice(0, 4_000), fraction: 1 });
          return { value: text, summary: `${paths.length} paths` };
        }),
      );

      const files = await step.run("generate-code", () =>
        reporter.step("generate-code", attempt, async (report) => {
          const out = generateCode(plan);
          for (const [i, f] of out.entries()) await report(f.path, { partial: f.content.slice(0, 4_000), fraction: (i + 1) / out.length });
          return { value: out, summary: `${out.length} files` };
        }),
      );

      await step.run("validate", () =>
        reporter.step("validate", attempt, async (report) => {
          const doc = await validateOpenApi(JSON.parse(openapi));
          if (!doc.ok) throw new NonRetriableError(`The OpenAPI document is invalid: ${doc.errors.slice(0, 5).join("; ")}`);
          await report("OpenAPI 3.1 document is valid", { fraction: 0.5 });
          const ts = await checkTypeScript(files);
          if (!ts.ok) throw new NonRetriableError(`The generated TypeScript does not compile: ${ts.errors.slice(0, 5).join("; ")}`);
          await report("TypeScript compiles with no errors", { fraction: 1 });
          return { value: null, summary: "valid" };
        }),
      );

      const saved = await step.run("save", () =>
        reporter.step("save", attempt, async () => {
          const artifact = await saveArtifact(deps.db, { projectId, runId, messageId, plan, openapi, files });
          const message = await upsertAssistantMessage(deps.db, {
            id: `a${runId.toLowerCase()}`,
            projectId,
            runId,
            content: assistantReply(plan, planned.changes, artifact.version),
            artifactVersion: artifact.version,
          });
          await finishRun(deps.db, runId, "completed", null);
          return { value: { version: artifact.version, assistantMessageId: message.id }, summary: `version ${artifact.version}` };
        }),
      );

      await step.run("complete", () =>
        reporter.completed({ durationMs: Date.now() - context.startedAt, assistantMessageId: saved.assistantMessageId, artifactVersion: saved.version }),
      );
      return { status: "completed" as const, version: saved.version };
    },
  );
}

export const generateApi = createGenerateApi();
