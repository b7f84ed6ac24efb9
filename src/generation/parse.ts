import { applyOperation, finishRelations, resolveReferences, startDraft } from "./apply";
import { findResource } from "./lookup";
import { parseClause } from "./clauses";
import { failureReply } from "./help";
import { titleCase } from "./naming";
import { describeOperation, type Operation } from "./operations";
import { type ApiPlan, apiPlanSchema } from "./plan";
import { checkPlan } from "./plan-check";
import { maskGroups, normalizeInput, splitClauses } from "./scan";
import { errorMessage } from "../lib/errors";

export type ParseResult = { ok: true; plan: ApiPlan; changes: string[] } | { ok: false; understood: string[]; reply: string };

/** Longer messages are not API descriptions; the cap also bounds the work a message can cause. */
export const MAX_MESSAGE_LENGTH = 20_000;

function failure(problems: readonly string[], understood: readonly string[], previous: ApiPlan | null): ParseResult {
  return { ok: false, understood: [...understood], reply: failureReply({ problems, understood, previous }) };
}

/** Every resource the message describes is new to the plan: it talks about another API, not this one. */
function describesOnlyNewResources(ops: readonly Operation[], previous: ApiPlan): boolean {
  if (ops.length === 0) return false;
  const names: string[] = [];
  for (const op of ops) {
    if (op.kind === "define") names.push(op.resource.name);
    else if (op.kind === "relate") names.push(op.resource.name, ...(op.owner === undefined ? [] : [op.owner]));
    else return false;
  }
  return names.every((name) => findResource(previous.resources, name) === undefined);
}

function defaultTitle(plan: Pick<ApiPlan, "resources">): string {
  const first = plan.resources[0];
  return first === undefined ? "My API" : `${titleCase(first.name.replace(/_/g, " "))} API`;
}

/**
 * Turn a chat message into the next API plan. Without `previous` the message describes a new API;
 * with it, the message edits that plan (add/remove/rename, or describes more resources) and the
 * version goes up by one. Never throws: anything it cannot use becomes a friendly reply.
 */
export function parseRequest(text: string, previous?: ApiPlan | null): ParseResult {
  const checkedPrevious = previous == null ? null : apiPlanSchema.safeParse(previous);
  if (checkedPrevious !== null && !checkedPrevious.success) {
    const problems = checkedPrevious.error.issues.map((i) => i.message);
    return failure([`The stored plan is not valid, so I can't change it: ${problems.join("; ")}`], [], null);
  }
  const base = checkedPrevious?.data ?? null;
  try {
    return parseWith(typeof text === "string" ? text : "", base);
  } catch (error) {
    // A bug in the parser must still reach the user as a reply, not as a failed job.
    const message = errorMessage(error);
    return failure([`Sorry, something went wrong while reading that message (${message}).`], [], base);
  }
}

function parseWith(text: string, previous: ApiPlan | null): ParseResult {
  const input = normalizeInput(text).trim();
  if (input.length === 0) return failure(["Your message is empty."], [], previous);
  if (input.length > MAX_MESSAGE_LENGTH) {
    return failure([`That message is too long (${input.length} characters; at most ${MAX_MESSAGE_LENGTH}).`], [], previous);
  }
  const masked = maskGroups(input);
  if (!masked.ok) return failure([masked.error], [], previous);

  const ops: Operation[] = [];
  const errors: string[] = [];
  for (const clause of splitClauses(masked.masked.text)) {
    const parsed = parseClause(clause, masked.masked.groups);
    ops.push(...parsed.ops);
    errors.push(...parsed.errors);
  }
  const understood = ops.map(describeOperation);
  if (errors.length > 0) return failure(errors, understood, previous);
  // A title read from prose ("a todo app") is only a name for resources the message describes, never a change on its own.
  const proseTitle = ops.find((op) => op.kind === "title" && op.fromProse === true);
  const substance = ops.filter((op) => !(op.kind === "title" && op.fromProse === true));
  if (proseTitle !== undefined && substance.length === 0) {
    const problem =
      previous === null ? "I couldn't find any resources in that message." : "I couldn't find a change to the API in that message.";
    return failure([problem], understood, previous);
  }
  if (
    previous !== null &&
    proseTitle?.kind === "title" &&
    proseTitle.title !== previous.title &&
    describesOnlyNewResources(substance, previous)
  ) {
    return failure(
      [
        `That describes a new API ("${proseTitle.title}"), but this project's API is "${previous.title}". Describe changes to it, or start a new project for the new API.`,
      ],
      understood,
      previous,
    );
  }
  if (ops.length === 0) {
    const what = previous === null ? "an API description" : "a change to the API";
    return failure([`I couldn't find ${what} in "${input.length > 80 ? `${input.slice(0, 80)}…` : input}".`], [], previous);
  }

  const draft = startDraft(previous?.title, previous?.resources ?? []);
  for (const op of ops) applyOperation(draft, op);
  finishRelations(draft);
  resolveReferences(draft);
  if (draft.errors.length > 0) return failure(draft.errors, understood, previous);
  if (draft.resources.length === 0) {
    const problem = previous === null ? "I couldn't find any resources in that message." : "That would leave the API without resources.";
    return failure([problem], understood, previous);
  }
  if (previous !== null && draft.changes.length === 0) return failure(["That message doesn't change the API."], understood, previous);

  const changes = [...draft.changes];
  let title = draft.title;
  if (title === undefined) {
    title = defaultTitle(draft);
    changes.unshift(`Titled the API "${title}"`);
  }
  const plan: ApiPlan = { title, version: previous === null ? 1 : previous.version + 1, resources: draft.resources };
  const problems = checkPlan(plan);
  if (problems.length > 0) return failure(problems, understood, previous);
  return { ok: true, plan, changes };
}
