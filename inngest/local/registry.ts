import { wireEvent } from "./app-client";
import { translateFunction } from "./config";
import type { FunctionDef, RefusedFunction, StoredEvent, SyncResult } from "./types";

interface AppEntry {
  functions: FunctionDef[];
  refused: RefusedFunction[];
  /** Event names the refused functions listen to, so such events are reported, not dropped. */
  refusedTriggers: Map<string, string[]>;
}

function eventMatches(pattern: string, name: string): boolean {
  return pattern === name || (pattern.endsWith("*") && name.startsWith(pattern.slice(0, -1)));
}

function triggerNames(raw: unknown): string[] {
  if (typeof raw !== "object" || raw === null || !("triggers" in raw) || !Array.isArray(raw.triggers)) return [];
  return raw.triggers.flatMap((t: unknown) =>
    typeof t === "object" && t !== null && "event" in t && typeof t.event === "string" ? [t.event] : [],
  );
}

/** The functions each synced app declared; a sync replaces that app's set. */
export class FunctionRegistry {
  private readonly apps = new Map<string, AppEntry>();

  apply(appId: string, rawFunctions: unknown[]): SyncResult {
    const entry: AppEntry = { functions: [], refused: [], refusedTriggers: new Map() };
    for (const raw of rawFunctions) {
      const result = translateFunction(raw, appId);
      if (result.ok) {
        entry.functions.push(result.fn);
      } else {
        entry.refused.push(result.refused);
        entry.refusedTriggers.set(result.refused.id, triggerNames(raw));
      }
    }
    this.apps.set(appId, entry);
    const result: SyncResult = {
      ok: entry.refused.length === 0,
      at: new Date().toISOString(),
      functions: entry.functions.map((f) => f.id),
      refused: entry.refused,
    };
    if (!result.ok) {
      result.error = entry.refused.map((r) => `function "${r.id}" refused: ${r.reasons.join("; ")}`).join(" | ");
    }
    return result;
  }

  get(id: string): FunctionDef | undefined {
    for (const app of this.apps.values()) {
      const fn = app.functions.find((f) => f.id === id);
      if (fn) return fn;
    }
    return undefined;
  }

  get size(): number {
    let n = 0;
    for (const app of this.apps.values()) n += app.functions.length;
    return n;
  }

  refused(): RefusedFunction[] {
    return [...this.apps.values()].flatMap((a) => a.refused);
  }

  /** Functions this event triggers, and refused functions that would have listened to it. */
  match(event: StoredEvent): { functions: FunctionDef[]; refused: RefusedFunction[] } {
    const scope = { event: wireEvent(event) };
    const functions: FunctionDef[] = [];
    const refused: RefusedFunction[] = [];
    for (const app of this.apps.values()) {
      for (const fn of app.functions) {
        const hit = fn.triggers.some((t) => eventMatches(t.event, event.name) && (!t.expression || t.expression.evaluate(scope) === true));
        if (hit) functions.push(fn);
      }
      for (const r of app.refused) {
        if ((app.refusedTriggers.get(r.id) ?? []).some((p) => eventMatches(p, event.name))) refused.push(r);
      }
    }
    return { functions, refused };
  }

  /** Whether any function (accepted or refused) listens to this event name at all. */
  knows(name: string): boolean {
    for (const app of this.apps.values()) {
      if (app.functions.some((f) => f.triggers.some((t) => eventMatches(t.event, name)))) return true;
      if ([...app.refusedTriggers.values()].some((names) => names.some((p) => eventMatches(p, name)))) return true;
    }
    return false;
  }

  /** Every accepted function of every synced app. */
  all(): FunctionDef[] {
    return [...this.apps.values()].flatMap((a) => a.functions);
  }
}

export { eventMatches };
