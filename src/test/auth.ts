import pino from "pino";
import type { Db } from "../db/client";
import { createAuth, type Auth } from "../auth/create-auth";
import { SessionRevocations } from "../auth/revocations";

/** The auth instance a suite runs against its own database, as the app configures it (no IP rate limit unless asked). */
export function createTestAuth(
  db: Db,
  options: { secureCookies?: boolean; rateLimit?: boolean; revocations?: SessionRevocations } = {},
): Auth {
  return createAuth({
    secureCookies: options.secureCookies ?? false,
    db,
    secret: "genstream-test-secret-0123456789abcdef0123456789",
    logger: pino({ level: "silent" }),
    baseURL: "http://127.0.0.1:3000",
    trustedOrigins: ["http://127.0.0.1:3000"],
    rateLimit: options.rateLimit ?? false,
    revocations: options.revocations ?? new SessionRevocations(),
  });
}

export interface TestAccount {
  userId: string;
  email: string;
  /** The `Cookie` request header carrying the session, as a browser would send it. */
  cookie: string;
  headers: Headers;
}

/** Signs a new user up through the library (password hashed, session stored) and returns their cookie. */
export async function signUpTestUser(auth: Auth, label = "user"): Promise<TestAccount> {
  const email = `${label}-${crypto.randomUUID()}@example.test`;
  const { headers, response } = await auth.api.signUpEmail({
    body: { email, password: "correct horse battery staple", name: label },
    returnHeaders: true,
  });
  const cookie = headers
    .getSetCookie()
    .map((line) => line.split(";")[0] ?? "")
    .filter((pair) => pair !== "")
    .join("; ");
  if (!cookie) throw new Error("sign-up set no cookie");
  return { userId: response.user.id, email, cookie, headers: new Headers({ cookie }) };
}
