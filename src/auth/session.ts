import type { IncomingHttpHeaders } from "node:http";
import { fromNodeHeaders } from "better-auth/node";
import type { Auth, AuthSession } from "./create-auth";

/** The signed-in user of a request (its session cookie), or null. */
export async function sessionFromHeaders(auth: Auth, headers: Headers): Promise<AuthSession | null> {
  return auth.api.getSession({ headers });
}

/** Same, for a node:http request (the stream is served outside Next). */
export function sessionFromNodeHeaders(auth: Auth, headers: IncomingHttpHeaders): Promise<AuthSession | null> {
  return sessionFromHeaders(auth, fromNodeHeaders(headers));
}
