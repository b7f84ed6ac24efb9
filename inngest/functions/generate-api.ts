import { NonRetriableError } from "inngest";
import { inngest } from "../client";
import { apiCancel, apiIterate } from "../events";
import { defaultDeps } from "../deps";
import { RunReporter, type ReporterDeps } from "../run-reporter";
import { findMessage } from "../../src/db/queries/messages";
import { findArtifact, findRunOutput, latestArtifact, saveRunArtifact, saveRunOutput } from "../../src/db/queries/artifacts";
import {
  apiPlanSchema,
  describePlan,
  generateCode,
  generateOpenApi,
  parseRequest,
  validateOpenApi,
  checkTypeScript,
  warmTypeScriptChecker,
  type OpenApiDocument,
  type ParseResult,
} from "../../src/generation";
import { assistantReply } from "./replies";
import { planByModel } from "../plan-by-model";
import { watchRunCancel } from "../run-cancel-watch";

export const GENERATE_API_RETRIES = 2;

/** A step found its run already ended (cancelled while it ran): it stores nothing, and the run keeps its end. */
const RUN_ENDED = "The run had already ended";

/**
 * Generates (or iterates on) a project's API from one user message, step by step, publishing
 * progress to the project's stream. One run per project at a time; one run per message (its
 * event's idempotency), except a rerun from the engine's dashboard, which is a new run of it.
 *
 * The large outputs (the OpenAPI text, the generated files) are written to the run's outputs by the
 * step that makes them; what the engine memoizes, and sends back with every call, are small
 * summaries, the message and the plan.
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
        const original = apiIterate.schema.parse(event.data.event.data);
        const reporter = new RunReporter(await getDeps(), { ...original, runId: event.data.run_id });
        await reporter.finish({ status: "failed", reason: error.message || "The generation failed" });
      },
    },
    async ({ event, step, runId, attempt }) => {
      const deps = await getDeps();
      const { projectId, messageId } = event.data;
      const reporter = new RunReporter(deps, { projectId, messageId, runId });
      const steps = reporter.steps(step, attempt);

      const context = await steps.run("load-context", async (report) => {
        // The checker's worker starts now (it was ended when idle), so it is warm by the validate step.
        warmTypeScriptChecker();
        const message = await findMessage(deps.db, messageId);
        if (!message || message.projectId !== projectId) throw new NonRetriableError(`Message ${messageId} does not exist`);
        const previous = await latestArtifact(deps.db, projectId);
        await report(previous ? `iterating on version ${previous.version}` : "new API");
        return {
          value: { content: message.content, previousVersion: previous?.version ?? null },
          summary: previous ? `version ${previous.version}` : "first version",
        };
      });

      const planned = await steps.run<ParseResult>("plan", async (report, writeText) => {
        const previous = context.previousVersion === null ? null : await findArtifact(deps.db, projectId, context.previousVersion);
        if (context.previousVersion !== null && !previous) throw new NonRetriableError(`Version ${context.previousVersion} does not exist`);
        const previousPlan = previous ? apiPlanSchema.parse(previous.plan) : null;
        // A configured model writes the plan from free-form text; without one, the grammar does.
        let result: ParseResult;
        if (deps.model) {
          // A cancel aborts the model's request at once, on whichever instance runs this step.
          const watch = await watchRunCancel(deps, { projectId, runId });
          try {
            result = await planByModel(deps.model, context.content, previousPlan, writeText, watch.signal);
          } catch (error) {
            if (watch.signal.aborted) throw new NonRetriableError(RUN_ENDED, { cause: error });
            throw error;
          } finally {
            watch.stop();
          }
        } else result = parseRequest(context.content, previousPlan);
        if (!result.ok) return { value: result, summary: "not understood" };
        const lines = describePlan(result.plan);
        for (const [i, line] of lines.entries()) await report(line, { fraction: (i + 1) / lines.length });
        return { value: result, summary: `${result.plan.resources.length} resources` };
      });

      if (!planned.ok) {
        // Nothing to generate: the run's answer is what was understood and an example.
        await steps.run("save", async () => ({ value: null, summary: "no API to save" }));
        await step.run("complete", () => reporter.finish({ status: "completed", reply: planned.reply, artifactVersion: null }));
        return { status: "not-understood" as const };
      }
      const plan = planned.plan;

      await steps.run("generate-openapi", async (report) => {
        const doc = generateOpenApi(plan);
        const text = JSON.stringify(doc, null, 2);
        const paths = Object.keys(doc.paths ?? {});
        for (const [i, p] of paths.entries()) await report(`path ${p}`, { fraction: (i + 1) / paths.length });
        await report("document ready", { partial: text.slice(0, 4_000), fraction: 1 });
        if (!(await saveRunOutput(deps.db, runId, { openapi: text }))) throw new NonRetriableError(RUN_ENDED);
        return { value: { paths: paths.length }, summary: `${paths.length} paths` };
      });

      await steps.run("generate-code", async (report) => {
        const files = generateCode(plan);
        for (const [i, f] of files.entries())
          await report(f.path, { partial: f.content.slice(0, 4_000), fraction: (i + 1) / files.length });
        if (!(await saveRunOutput(deps.db, runId, { files }))) throw new NonRetriableError(RUN_ENDED);
        return { value: { files: files.length }, summary: `${files.length} files` };
      });

      await steps.run("validate", async (report) => {
        const output = await findRunOutput(deps.db, runId);
        if (!output?.openapi || !output.files) throw new NonRetriableError("The run's generated outputs are missing");
        // Our own document, written by generate-openapi; validateOpenApi checks it as untrusted anyway.
        const doc = await validateOpenApi(JSON.parse(output.openapi) as OpenApiDocument);
        if (!doc.ok) throw new NonRetriableError(`The OpenAPI document is invalid: ${doc.errors.slice(0, 5).join("; ")}`);
        await report("OpenAPI 3.1 document is valid", { fraction: 0.5 });
        const ts = await checkTypeScript(output.files);
        if (!ts.ok) throw new NonRetriableError(`The generated TypeScript does not compile: ${ts.errors.slice(0, 5).join("; ")}`);
        await report("TypeScript compiles with no errors", { fraction: 1 });
        return { value: null, summary: "valid" };
      });

      const saved = await steps.run("save", async () => {
        const artifact = await saveRunArtifact(deps.db, { projectId, runId, messageId, plan });
        if (!artifact) throw new NonRetriableError(RUN_ENDED);
        return { value: { version: artifact.version }, summary: `version ${artifact.version}` };
      });

      await step.run("complete", () =>
        reporter.finish({
          status: "completed",
          reply: assistantReply(plan, planned.changes, saved.version),
          artifactVersion: saved.version,
        }),
      );
      return { status: "completed" as const, version: saved.version };
    },
  );
}

export const generateApi = createGenerateApi();
