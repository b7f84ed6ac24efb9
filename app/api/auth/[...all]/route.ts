import { toNextJsHandler } from "better-auth/next-js";
import { services } from "@/src/services";

export const dynamic = "force-dynamic";

// The auth instance lives in the services (built by server.ts), so each method awaits them.
async function handler(req: Request): Promise<Response> {
  const { GET, POST } = toNextJsHandler((await services()).auth);
  return req.method === "GET" ? GET(req) : POST(req);
}

export { handler as GET, handler as POST };
