import { z } from "zod";
import { parseDuration } from "./duration";
import { compileExpression, type Expression } from "./expression";
import type { CancelRule, ConcurrencyRule, FunctionDef, RefusedFunction, Trigger } from "./types";

/** Inngest's default when a function sets no `retries`: 4 retries, so 5 attempts. */
export const DEFAULT_RETRIES = 4;

/** Options the real engine has and this executor does not: refused, never ignored. */
const UNSUPPORTED_OPTIONS = ["batchEvents", "rateLimit", "throttle", "debounce", "priority", "singleton", "timeouts"];
const KNOWN_OPTIONS = new Set(["id", "name", "triggers", "steps", "idempotency", "concurrency", "cancel", ...UNSUPPORTED_OPTIONS]);

const triggerSchema = z.union([
  z.strictObject({ event: z.string().min(1), expression: z.string().optional() }),
  z.strictObject({ cron: z.string(), jitter: z.string().optional() }),
]);

const stepSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  runtime: z.strictObject({ type: z.string(), url: z.string() }),
  retries: z.strictObject({ attempts: z.number().int().min(0).optional() }).optional(),
});

const concurrencyItemSchema = z.strictObject({
  limit: z.number().int(),
  key: z.string().optional(),
  scope: z.enum(["fn", "env", "account"]).optional(),
});

const functionSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().optional(),
  triggers: z.array(triggerSchema),
  steps: z.record(z.string(), stepSchema),
  idempotency: z.string().optional(),
  concurrency: z.union([z.number().int(), concurrencyItemSchema, z.array(concurrencyItemSchema)]).optional(),
  cancel: z.array(z.strictObject({ event: z.string().min(1), if: z.string().optional(), timeout: z.string().optional() })).optional(),
});

export type TranslateResult = { ok: true; fn: FunctionDef } | { ok: false; refused: RefusedFunction };

function issues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
}

/** Turn one synced function config into something runnable, or say exactly why not. */
export function translateFunction(raw: unknown, appId: string): TranslateResult {
  const rawId = typeof raw === "object" && raw !== null && "id" in raw ? String(raw.id) : "(no id)";
  const parsed = functionSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, refused: { id: rawId, reasons: issues(parsed.error) } };
  const cfg = parsed.data;
  const reasons: string[] = [];

  for (const key of Object.keys(cfg)) {
    if (UNSUPPORTED_OPTIONS.includes(key)) reasons.push(`${key} is not supported by the local executor`);
    else if (!KNOWN_OPTIONS.has(key)) reasons.push(`unknown option "${key}"`);
  }

  const compile = (source: string, roots: readonly string[], what: string): Expression | undefined => {
    try {
      return compileExpression(source, roots);
    } catch (err) {
      reasons.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  };

  const triggers: Trigger[] = [];
  for (const t of cfg.triggers) {
    if ("cron" in t) {
      reasons.push(`cron trigger "${t.cron}" is not supported by the local executor`);
      continue;
    }
    triggers.push({ event: t.event, expression: t.expression ? compile(t.expression, ["event"], "trigger") : undefined });
  }
  if (cfg.triggers.length === 0) reasons.push("no triggers");

  const step = cfg.steps["step"];
  const otherSteps = Object.keys(cfg.steps).filter((k) => k !== "step");
  if (!step) reasons.push('missing the "step" entry point');
  if (otherSteps.length > 0) reasons.push(`unexpected step entries: ${otherSteps.join(", ")}`);
  if (step && step.runtime.type !== "http") reasons.push(`runtime "${step.runtime.type}" is not supported (http only)`);

  const concurrency: ConcurrencyRule[] = [];
  const rawConcurrency = cfg.concurrency;
  const items =
    rawConcurrency === undefined ? [] : typeof rawConcurrency === "number" ? [{ limit: rawConcurrency }] : [rawConcurrency].flat();
  for (const item of items) {
    if (item.limit <= 0) continue; // Inngest: 0 means "no limit".
    const scope = item.scope ?? "fn";
    if (scope !== "fn" && !item.key) reasons.push(`concurrency scope "${scope}" needs a key`);
    concurrency.push({ limit: item.limit, scope, key: item.key ? compile(item.key, ["event"], "concurrency key") : undefined });
  }

  const cancel: CancelRule[] = [];
  for (const c of cfg.cancel ?? []) {
    let timeoutMs: number | undefined;
    if (c.timeout !== undefined) {
      timeoutMs = parseDuration(c.timeout);
      if (timeoutMs === undefined) reasons.push(`cancelOn timeout "${c.timeout}" is not a duration`);
    }
    cancel.push({ event: c.event, if: c.if ? compile(c.if, ["event", "async"], "cancelOn") : undefined, timeoutMs });
  }

  const idempotency = cfg.idempotency ? compile(cfg.idempotency, ["event"], "idempotency") : undefined;

  if (reasons.length > 0 || !step) return { ok: false, refused: { id: cfg.id, reasons } };
  return {
    ok: true,
    fn: {
      id: cfg.id,
      name: cfg.name ?? cfg.id,
      appId,
      url: step.runtime.url,
      triggers,
      maxAttempts: (step.retries?.attempts ?? DEFAULT_RETRIES) + 1,
      concurrency,
      idempotency,
      cancel,
    },
  };
}
