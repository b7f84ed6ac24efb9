/**
 * Accounts and sessions as the app configures Better Auth, through its HTTP handler (what
 * /api/auth/[...all] serves) on each test database.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "../db/client";
import { account, session } from "../db/schema";
import { openTestDb, testDatabaseTargets } from "../test/databases";
import { createTestAuth } from "../test/auth";
import type { Auth } from "./create-auth";
import { limits } from "../server/limits";

const ORIGIN = "http://127.0.0.1:3000";
const PASSWORD = "correct horse battery staple";

function post(auth: Auth, path: string, body: unknown, cookie?: string, extra: Record<string, string> = {}): Promise<Response> {
  return auth.handler(
    new Request(`${ORIGIN}/api/auth${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: ORIGIN, ...(cookie ? { cookie } : {}), ...extra },
      body: JSON.stringify(body),
    }),
  );
}

function cookieOf(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((line) => line.split(";")[0] ?? "")
    .join("; ");
}

describe.each(testDatabaseTargets())("accounts and sessions against $name", ({ target }) => {
  let handle: DbHandle;
  let auth: Auth;

  beforeAll(async () => {
    handle = await openTestDb(target);
    auth = createTestAuth(handle.db);
  });

  afterAll(async () => {
    await handle.close();
  });

  it("sign up stores a hashed password and a session in the database, and sets an HttpOnly SameSite=Lax cookie", async () => {
    const email = `ada-${crypto.randomUUID()}@example.test`;
    const response = await post(auth, "/sign-up/email", { email, password: PASSWORD, name: "Ada" });
    expect(response.status).toBe(200);
    const { user } = (await response.json()) as { user: { id: string; email: string } };
    expect(user.email).toBe(email);
    const [stored] = await handle.db.select().from(account).where(eq(account.userId, user.id));
    expect(stored?.password).toBeTruthy();
    expect(stored?.password).not.toContain(PASSWORD);
    expect(await handle.db.select().from(session).where(eq(session.userId, user.id))).toHaveLength(1);
    const setCookie = response.headers.getSetCookie().join("\n");
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    const me = await auth.api.getSession({ headers: new Headers({ cookie: cookieOf(response) }) });
    expect(me?.user.id).toBe(user.id);
  });

  it("sign in needs the right password; sign out ends the session in the database", async () => {
    const email = `bob-${crypto.randomUUID()}@example.test`;
    await post(auth, "/sign-up/email", { email, password: PASSWORD, name: "Bob" });
    expect((await post(auth, "/sign-in/email", { email, password: "wrong password!" })).status).toBe(401);
    const signedIn = await post(auth, "/sign-in/email", { email, password: PASSWORD });
    expect(signedIn.status).toBe(200);
    const cookie = cookieOf(signedIn);
    expect(await auth.api.getSession({ headers: new Headers({ cookie }) })).not.toBeNull();
    expect((await post(auth, "/sign-out", {}, cookie)).status).toBe(200);
    expect(await auth.api.getSession({ headers: new Headers({ cookie }) })).toBeNull();
  });

  it("a duplicate email, a short password and a malformed body are refused with 4xx", async () => {
    const email = `cy-${crypto.randomUUID()}@example.test`;
    expect((await post(auth, "/sign-up/email", { email, password: PASSWORD, name: "Cy" })).status).toBe(200);
    for (const body of [
      { email, password: PASSWORD, name: "Cy" },
      { email: `x${email}`, password: "short", name: "Cy" },
      { email: "not an email", password: PASSWORD, name: "Cy" },
      "junk",
    ]) {
      const status = (await post(auth, "/sign-up/email", body)).status;
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
    }
  });

  it(`sign-in attempts: attempt ${limits.authAttemptsPerMinute + 1} from one IP within a minute is refused (429); another IP signs in`, async () => {
    const limited = createTestAuth(handle.db, { rateLimit: true });
    // Better Auth's limiter store is per process: addresses of this run only. (IPv4: it groups IPv6 by /64.)
    const ip = () => `10.${crypto.getRandomValues(new Uint8Array(3)).join(".")}`;
    const email = `eve-${crypto.randomUUID()}@example.test`;
    expect(
      (await post(limited, "/sign-up/email", { email, password: PASSWORD, name: "Eve" }, undefined, { "x-forwarded-for": ip() })).status,
    ).toBe(200);
    // The server pins X-Forwarded-For to the socket's address (request-guards.ts), so this is the client's IP.
    const fromA = { "x-forwarded-for": ip() };
    for (let i = 0; i < limits.authAttemptsPerMinute; i++) {
      expect((await post(limited, "/sign-in/email", { email, password: "wrong password!" }, undefined, fromA)).status).toBe(401);
    }
    const refused = await post(limited, "/sign-in/email", { email, password: PASSWORD }, undefined, fromA);
    expect(refused.status).toBe(429);
    const fromB = await post(limited, "/sign-in/email", { email, password: PASSWORD }, undefined, { "x-forwarded-for": ip() });
    expect(fromB.status).toBe(200);
  });

  it("production cookies are Secure with the __Secure- prefix", async () => {
    const secure = createTestAuth(handle.db, { secureCookies: true });
    const response = await post(secure, "/sign-up/email", {
      email: `dee-${crypto.randomUUID()}@example.test`,
      password: PASSWORD,
      name: "Dee",
    });
    const setCookie = response.headers.getSetCookie().join("\n");
    expect(setCookie).toMatch(/^__Secure-better-auth\.session_token=/m);
    expect(setCookie).toMatch(/; Secure/i);
  });
});
