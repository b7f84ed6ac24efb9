import { accountHeaders, type Account } from "./accounts";

/** A tRPC mutation over HTTP as the browser client sends it (superjson transformer, no batching). */
export async function trpcMutation(baseUrl: string, path: string, input: unknown, account: Account): Promise<unknown> {
  const res = await fetch(`${baseUrl}/api/trpc/${path}`, {
    method: "POST",
    headers: { ...accountHeaders(baseUrl, account), "content-type": "application/json" },
    body: JSON.stringify({ json: input }),
  }).catch((err: unknown) => {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
    throw new Error(`${path} request failed${cause}`, { cause: err });
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as { result?: { data?: { json?: unknown } } };
  return body.result?.data?.json;
}

export async function createProject(baseUrl: string, name: string, account: Account): Promise<string> {
  const project = await trpcMutation(baseUrl, "project.create", { name }, account);
  const id = typeof project === "object" && project !== null ? (project as { id?: unknown }).id : undefined;
  if (typeof id !== "string") throw new Error(`project.create returned no id: ${JSON.stringify(project)}`);
  return id;
}
