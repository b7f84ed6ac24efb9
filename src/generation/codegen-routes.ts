import { commentText } from "./codegen-schemas";
import { resourceIdentifiers } from "./identifiers";
import type { ApiPlan, FieldPlan, ResourcePlan } from "./plan";

const str = (text: string): string => JSON.stringify(text);

const PRELUDE = `import type { z } from "zod";
import * as schemas from "./schemas";

export interface RouteParams {
  id?: string;
}
export type RouteHandler = (req: Request, params: RouteParams) => Promise<Response>;

interface Issue {
  path: (string | number)[];
  message: string;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function fail(status: number, code: string, message: string, issues?: Issue[]): Response {
  return json(status, issues === undefined ? { code, message } : { code, message, issues });
}

function invalid(error: z.ZodError): Response {
  const issues = error.issues.map((i) => ({
    path: i.path.map((p) => (typeof p === "number" ? p : String(p))),
    message: i.message,
  }));
  return fail(422, "validation_failed", "The request body is not valid.", issues);
}

function notFound(what: string, id: string): Response {
  return fail(404, "not_found", \`No \${what} with id \${id}.\`);
}

async function readJson(req: Request): Promise<{ ok: true; body: unknown } | { ok: false; response: Response }> {
  try {
    return { ok: true, body: await req.json() };
  } catch {
    return { ok: false, response: fail(400, "bad_request", "The request body must be valid JSON.") };
  }
}
`;

const ROUTER = `/** Match a "/books/{id}"-style template against a path; the params, or undefined. */
function match(template: string, pathname: string): RouteParams | undefined {
  const want = template.split("/");
  const got = pathname.replace(/\\/+$/, "").split("/");
  if (want.length !== got.length) return undefined;
  const params: RouteParams = {};
  for (const [i, segment] of want.entries()) {
    const actual = got[i] ?? "";
    if (segment === "{id}") {
      try {
        params.id = decodeURIComponent(actual);
      } catch {
        return undefined;
      }
    } else if (segment !== actual) {
      return undefined;
    }
  }
  return params;
}

/** One function for all routes: 404 for unknown paths, 405 for known paths with another method. */
export function createHandler(store: Store = createStore(), options: { basePath?: string } = {}): (req: Request) => Promise<Response> {
  const basePath = (options.basePath ?? "").replace(/\\/+$/, "");
  const table = Object.entries(createRoutes(store)).map(([key, handler]) => {
    const space = key.indexOf(" ");
    return { method: key.slice(0, space), template: basePath + key.slice(space + 1), handler };
  });
  return async (req) => {
    const { pathname } = new URL(req.url);
    let pathKnown = false;
    for (const route of table) {
      const params = match(route.template, pathname);
      if (params === undefined) continue;
      pathKnown = true;
      if (route.method === req.method) return route.handler(req, params);
    }
    return pathKnown
      ? fail(405, "method_not_allowed", \`\${req.method} is not allowed on \${pathname}.\`)
      : fail(404, "not_found", \`No route for \${req.method} \${pathname}.\`);
  };
}

/** A ready-to-use handler over one process-wide in-memory store. */
export const handle = createHandler();
`;

function refCheck(field: FieldPlan, plan: ApiPlan): string {
  const target = plan.resources.find((r) => r.name === field.ref);
  const value = `item.${field.name}`;
  const condition = `${field.optional ? `${value} !== undefined && ` : ""}!store.${field.ref ?? ""}.has(${value})`;
  const message = str(`${field.name} must be the id of an existing item of ${field.ref ?? ""}.`);
  const issue = `[{ path: [${str(field.name)}], message: ${str(`No ${target?.singular ?? "item"} with this id.`)} }]`;
  return `  if (${condition}) return fail(422, "validation_failed", ${message}, ${issue});`;
}

function uniqueCheck(resource: ResourcePlan, field: FieldPlan): string {
  const guard = field.optional ? `item.${field.name} !== undefined && ` : "";
  const message = str(`Another ${resource.singular} already has this ${field.name}.`);
  return `    if (${guard}other.${field.name} === item.${field.name}) return fail(409, "conflict", ${message}, [{ path: [${str(field.name)}], message: "Must be unique." }]);`;
}

/** References must exist (422) and unique values must be free (409); generated only when needed. */
function checkFunction(resource: ResourcePlan, plan: ApiPlan): { code: string; usesSelf: boolean } | undefined {
  const ids = resourceIdentifiers(resource);
  const refs = resource.fields.filter((f) => f.type === "ref");
  const uniques = resource.fields.filter((f) => f.unique);
  if (refs.length === 0 && uniques.length === 0) return undefined;
  const usesSelf = uniques.length > 0;
  const self = usesSelf ? ", selfId: string | undefined" : "";
  const lines = [`function check${ids.type}(store: Store, item: schemas.${ids.input}${self}): Response | undefined {`];
  lines.push(...refs.map((f) => refCheck(f, plan)));
  if (usesSelf) {
    lines.push(`  for (const other of store.${resource.name}.values()) {`, "    if (other.id === selfId) continue;");
    lines.push(...uniques.map((f) => uniqueCheck(resource, f)), "  }");
  }
  lines.push("  return undefined;", "}");
  return { code: lines.join("\n"), usesSelf };
}

/** Deleting an item that others still point at would leave dangling ids: 409 instead. */
function referrersFunction(resource: ResourcePlan, plan: ApiPlan): string | undefined {
  const ids = resourceIdentifiers(resource);
  const checks = plan.resources.flatMap((r) =>
    r.fields
      .filter((f) => f.type === "ref" && f.ref === resource.name)
      .map((f) => {
        const self = r.name === resource.name ? " && other.id !== id" : "";
        return `  for (const other of store.${r.name}.values()) if (other.${f.name} === id${self}) return ${str(r.name)};`;
      }),
  );
  if (checks.length === 0) return undefined;
  return [`function referrersOf${ids.type}(store: Store, id: string): string | undefined {`, ...checks, "  return undefined;", "}"].join(
    "\n",
  );
}

function resourceRoutes(resource: ResourcePlan, plan: ApiPlan): string {
  const ids = resourceIdentifiers(resource);
  const map = `store.${resource.name}`;
  const what = str(resource.singular);
  const checker = checkFunction(resource, plan);
  const check = (self: string) =>
    checker === undefined
      ? ""
      : `\n      const problem = check${ids.type}(store, item${checker.usesSelf ? `, ${self}` : ""});\n      if (problem !== undefined) return problem;`;
  const hasReferrers = referrersFunction(resource, plan) !== undefined;
  const referrers = hasReferrers
    ? `\n      const referrer = referrersOf${ids.type}(store, id);\n      if (referrer !== undefined) return fail(409, "conflict", \`This ${commentText(resource.singular)} is still referenced by \${referrer}.\`);`
    : "";
  return `    "GET ${ids.path}": async () => json(200, [...${map}.values()]),
    "POST ${ids.path}": async (req) => {
      const read = await readJson(req);
      if (!read.ok) return read.response;
      const parsed = schemas.${ids.input}Schema.safeParse(read.body);
      if (!parsed.success) return invalid(parsed.error);
      const item: schemas.${ids.type} = { id: crypto.randomUUID(), ...parsed.data };${check("undefined")}
      ${map}.set(item.id, item);
      return json(201, item);
    },
    "GET ${ids.path}/{id}": async (_req, { id = "" }) => {
      const item = ${map}.get(id);
      return item === undefined ? notFound(${what}, id) : json(200, item);
    },
    "PATCH ${ids.path}/{id}": async (req, { id = "" }) => {
      const existing = ${map}.get(id);
      if (existing === undefined) return notFound(${what}, id);
      const read = await readJson(req);
      if (!read.ok) return read.response;
      const parsed = schemas.${ids.patch}Schema.safeParse(read.body);
      if (!parsed.success) return invalid(parsed.error);
      const item: schemas.${ids.type} = { ...existing, ...parsed.data, id: existing.id };${check("existing.id")}
      ${map}.set(item.id, item);
      return json(200, item);
    },
    "DELETE ${ids.path}/{id}": async (_req, { id = "" }) => {
      if (!${map}.has(id)) return notFound(${what}, id);${referrers}
      ${map}.delete(id);
      return new Response(null, { status: 204 });
    },`;
}

export function generateRoutesFile(plan: ApiPlan): string {
  const storeFields = plan.resources.map((r) => `  ${r.name}: Map<string, schemas.${resourceIdentifiers(r).type}>;`).join("\n");
  const storeInit = plan.resources.map((r) => `${r.name}: new Map()`).join(", ");
  const helpers = plan.resources
    .flatMap((r) => [checkFunction(r, plan)?.code, referrersFunction(r, plan)])
    .filter((h): h is string => h !== undefined);
  return `// Route handlers for ${commentText(JSON.stringify(plan.title))} (plan v${plan.version}), generated by Genstream.
// Framework-agnostic: a Web Request in, a Web Response out; data lives in memory.
${PRELUDE}
export interface Store {
${storeFields}
}

export function createStore(): Store {
  return { ${storeInit} };
}
${helpers.map((h) => `\n${h}\n`).join("")}
/** Handlers keyed by "METHOD /path"; path templates use {id}. */
export function createRoutes(store: Store = createStore()): Record<string, RouteHandler> {
  return {
${plan.resources.map((r) => resourceRoutes(r, plan)).join("\n")}
  };
}

${ROUTER}`;
}
