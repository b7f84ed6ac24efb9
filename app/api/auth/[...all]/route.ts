import { toNextJsHandler } from "better-auth/next-js";
import { getAuth } from "@/src/auth/server";

export const dynamic = "force-dynamic";

// The auth instance is created lazily (it needs the database), so each method awaits it.
async function handler(req: Request): Promise<Response> {
  const { GET, POST } = toNextJsHandler(await getAuth());
  return req.method === "GET" ? GET(req) : POST(req);
}

export { handler as GET, handler as POST };
