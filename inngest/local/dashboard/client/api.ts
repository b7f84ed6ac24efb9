/** The dashboard's actions: JSON POSTs to /dashboard/api (same origin; the session cookie rides along). */
export class ActionError extends Error {}

export async function postJson<T>(path: string, body: unknown = {}): Promise<T> {
  const res = await fetch(`/dashboard/api/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as { error?: string };
  if (!res.ok) throw new ActionError(json.error ?? `${res.status} ${res.statusText}`);
  return json as T;
}

export async function getSession(): Promise<{ auth: "signing-key" | "none"; signedIn: boolean }> {
  const res = await fetch("/dashboard/api/session");
  if (!res.ok) throw new ActionError(`session check failed: ${res.status}`);
  return (await res.json()) as { auth: "signing-key" | "none"; signedIn: boolean };
}
