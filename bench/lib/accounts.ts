import { randomUUID } from "node:crypto";

/**
 * A user of the app as the benchmark sees it: the `Cookie` header carrying its session ("" when the
 * app has no accounts, i.e. sign-up answers 404). Signed up through the public endpoint, as a browser
 * does, so every figure includes the app's real session checks.
 */
export interface Account {
  cookie: string;
}

export async function signUp(baseUrl: string, label: string): Promise<Account> {
  const res = await fetch(`${baseUrl}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: baseUrl },
    body: JSON.stringify({ email: `${label}-${randomUUID()}@bench.test`, password: "bench correct horse battery", name: label }),
  });
  if (res.status === 404) return { cookie: "" };
  const text = await res.text();
  if (!res.ok) throw new Error(`sign-up answered ${res.status}: ${text.slice(0, 300)}`);
  const cookie = res.headers
    .getSetCookie()
    .map((line) => line.split(";")[0] ?? "")
    .filter((pair) => pair !== "")
    .join("; ");
  if (!cookie) throw new Error("sign-up set no session cookie");
  return { cookie };
}

/** Request headers of a signed-in browser: its cookie and, for mutations, its origin. */
export function accountHeaders(baseUrl: string, account: Account): Record<string, string> {
  return account.cookie ? { cookie: account.cookie, origin: baseUrl } : { origin: baseUrl };
}
