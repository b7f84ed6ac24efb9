import { describeField, describeFields } from "./describe";
import type { FieldPlan, ResourcePlan } from "./plan";

/**
 * What one clause of a message asks for. Clauses are parsed into operations first and applied to
 * the plan afterwards, so a message can refer to resources it defines later ("books (author ->
 * authors) and authors (name)") and every problem can be reported at once.
 */
export type Operation =
  /** `fromProse`: read from a description ("a todo app"), not asked for ("call the API …"). */
  | { kind: "title"; title: string; fromProse?: boolean }
  /** A resource described in prose: new, or a redefinition of an existing one. */
  | { kind: "define"; resource: ResourcePlan }
  /** "add reviews (…) to books": a new resource that belongs to `parent`. */
  | { kind: "addChild"; resource: ResourcePlan; parent: string }
  | { kind: "addFields"; target: string; fields: FieldPlan[] }
  | { kind: "removeFields"; target: string; names: string[] }
  /** "remove reviews": resources, or a field name that only one resource has. */
  | { kind: "remove"; names: string[] }
  | { kind: "rename"; from: string; to: string; target?: string }
  /** Prose: "lists have tasks with a due date" (owner lists), or "each task has a title" (no owner). */
  | { kind: "relate"; resource: ResourcePlan; owner?: string };

/** A line for "what I understood", shown when a message could not be applied. */
export function describeOperation(op: Operation): string {
  switch (op.kind) {
    case "title":
      return `title: ${op.title}`;
    case "define":
      return `resource ${op.resource.name} (${describeFields(op.resource.fields)})`;
    case "addChild":
      return `new resource ${op.resource.name} (${describeFields(op.resource.fields)}) belonging to ${op.parent}`;
    case "addFields":
      return `add ${op.fields.map(describeField).join(", ")} to ${op.target}`;
    case "removeFields":
      return `remove ${op.names.join(", ")} from ${op.target}`;
    case "remove":
      return `remove ${op.names.join(", ")}`;
    case "relate": {
      const fields = op.resource.fields.length === 0 ? "" : ` (${describeFields(op.resource.fields)})`;
      return op.owner === undefined ? `${op.resource.name}${fields}` : `${op.resource.name}${fields} belonging to ${op.owner}`;
    }
    case "rename":
      return `rename ${op.from} to ${op.to}${op.target === undefined ? "" : ` in ${op.target}`}`;
  }
}
