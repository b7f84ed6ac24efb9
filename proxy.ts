import { NextResponse, type NextRequest } from "next/server";
import { pageContentSecurityPolicy } from "./src/server/security-headers";

/**
 * A fresh CSP nonce for every page request (Next 16 "proxy", formerly middleware). Next reads the
 * nonce from the request's Content-Security-Policy header and puts it on its own scripts; the
 * browser gets the same policy on the response. Every page is dynamically rendered already.
 */
export function proxy(request: NextRequest): NextResponse {
  const nonce = btoa(crypto.randomUUID());
  const policy = pageContentSecurityPolicy(nonce, process.env.NODE_ENV === "development");
  const headers = new Headers(request.headers);
  headers.set("x-nonce", nonce);
  headers.set("Content-Security-Policy", policy);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("Content-Security-Policy", policy);
  return response;
}

export const config = {
  // API routes get their own policy from server.ts; static assets are not documents.
  matcher: [{ source: "/((?!api/|_next/static|_next/image|favicon.ico).*)" }],
};
