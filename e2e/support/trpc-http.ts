import type { APIRequestContext } from "@playwright/test";
import { z } from "zod";
import { runSnapshotListSchema } from "../../src/client/run-snapshot";

/**
 * tRPC over plain HTTP, as a test (or a Node load client) calls it: superjson envelopes
 * `{"json": …}`, queries as GET `?input=`, mutations as POST. Values used here are plain JSON.
 */
export class TrpcHttpError extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
    message: string,
  ) {
    super(`${path}: ${code}: ${message}`);
  }
}

const envelopeSchema = z.union([
  z.object({ result: z.object({ data: z.object({ json: z.unknown() }) }) }),
  z.object({ error: z.object({ json: z.object({ message: z.string(), data: z.object({ code: z.string() }).loose() }).loose() }) }),
]);

async function unwrap(path: string, res: { status: number; json(): Promise<unknown> }): Promise<unknown> {
  const parsed = envelopeSchema.safeParse(await res.json().catch(() => null));
  if (!parsed.success) throw new TrpcHttpError(path, `HTTP_${res.status}`, "unexpected response body");
  if ("error" in parsed.data) throw new TrpcHttpError(path, parsed.data.error.json.data.code, parsed.data.error.json.message);
  return parsed.data.result.data.json;
}

/** Extra request headers, e.g. a session cookie. */
export type RequestHeaders = Record<string, string>;

export async function trpcQuery(baseURL: string, path: string, input: unknown, headers: RequestHeaders = {}): Promise<unknown> {
  const res = await fetch(`${baseURL}/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`, { headers });
  return unwrap(path, res);
}

export async function trpcMutation(baseURL: string, path: string, input: unknown, headers: RequestHeaders = {}): Promise<unknown> {
  const res = await fetch(`${baseURL}/api/trpc/${path}`, {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify({ json: input }),
  });
  return unwrap(path, res);
}

export async function createProject(baseURL: string, name: string, headers: RequestHeaders = {}): Promise<string> {
  const project = z.object({ id: z.string() }).parse(await trpcMutation(baseURL, "project.create", { name }, headers));
  return project.id;
}

const projectStateSchema = z.object({ cursor: z.string(), runs: runSnapshotListSchema });

type ProjectState = z.infer<typeof projectStateSchema>;

/** What the database says about a project's runs (`project.get`), the state a page must end equal to. */
export async function projectState(baseURL: string, projectId: string, headers: RequestHeaders = {}): Promise<ProjectState> {
  return projectStateSchema.parse(await trpcQuery(baseURL, "project.get", { projectId }, headers));
}

/** The same through a page's request context, which carries the browser's cookies (its session). */
export async function projectStateOf(request: APIRequestContext, baseURL: string, projectId: string): Promise<ProjectState> {
  const res = await request.get(`${baseURL}/api/trpc/project.get?input=${encodeURIComponent(JSON.stringify({ json: { projectId } }))}`);
  return projectStateSchema.parse(await unwrap("project.get", { status: res.status(), json: () => res.json() as Promise<unknown> }));
}

/** A mutation through a page's request context (the browser's cookies, so its session). */
export async function mutationOf(request: APIRequestContext, baseURL: string, path: string, input: unknown): Promise<unknown> {
  const res = await request.post(`${baseURL}/api/trpc/${path}`, { data: { json: input }, headers: { origin: baseURL } });
  return unwrap(path, { status: res.status(), json: () => res.json() as Promise<unknown> });
}
