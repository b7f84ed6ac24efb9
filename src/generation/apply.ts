import { addChild, addFields, define } from "./apply-add";
import { remove, removeFields, rename, retitle } from "./apply-edit";
import { relate } from "./apply-relate";
import type { Draft } from "./draft";
import type { Operation } from "./operations";

export { resolveReferences, startDraft } from "./draft";
export { finishRelations } from "./apply-relate";

/** Apply one parsed operation to the draft; problems go to `draft.errors`, never thrown. */
export function applyOperation(draft: Draft, op: Operation): void {
  switch (op.kind) {
    case "title":
      return retitle(draft, op.title);
    case "define":
      return define(draft, op.resource);
    case "addChild":
      return addChild(draft, op.resource, op.parent);
    case "addFields":
      return addFields(draft, op.target, op.fields);
    case "removeFields":
      return removeFields(draft, op.target, op.names);
    case "remove":
      return remove(draft, op.names);
    case "rename":
      return rename(draft, op);
    case "relate":
      return relate(draft, op);
  }
}
