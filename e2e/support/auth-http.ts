import { randomUUID } from "node:crypto";

/** A signed-in account as a Node client holds it: the Cookie header a browser would send. */
export interface Account {
  email: string;
  cookie: string;
  headers: Record<string, string>;
}

/**
 * Signs a fresh account up through the app's auth endpoint (email + password, auto sign-in) and
 * keeps its session cookie, for Node clients (tRPC over HTTP, streams) that have no browser.
 */
export async function signUp(baseURL: string, name = "Chaos"): Promise<Account> {
  const email = `${name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${randomUUID()}@example.test`;
  const res = await fetch(`${baseURL}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: baseURL },
    body: JSON.stringify({ name, email, password: `pw-${randomUUID()}` }),
  });
  if (!res.ok) throw new Error(`sign-up answered ${res.status}: ${await res.text()}`);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0] ?? "")
    .filter((c) => c !== "")
    .join("; ");
  if (cookie === "") throw new Error("sign-up set no session cookie");
  return { email, cookie, headers: { cookie } };
}
