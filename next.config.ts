import type { NextConfig } from "next";
import { apiContentSecurityPolicy, securityHeaders } from "./src/server/security-headers";

const staticHeaders = Object.entries(securityHeaders).map(([key, value]) => ({ key, value }));

const nextConfig: NextConfig = {
  serverExternalPackages: ["@electric-sql/pglite", "pino", "typescript", "@readme/openapi-parser", "ioredis", "pg"],
  poweredByHeader: false,
  // The build type-checks what ships; tests, e2e and bench are `npm run typecheck`'s (tsconfig.json).
  typescript: { tsconfigPath: "tsconfig.build.json" },
  // `npm run dev` is opened as localhost or 127.0.0.1; Next blocks dev assets for unlisted origins.
  allowedDevOrigins: ["127.0.0.1", "localhost"],
  // server.ts sets these on every response too; here they also hold when Next answers alone. Pages
  // get their Content-Security-Policy, with a per-request nonce, from proxy.ts.
  async headers() {
    return [
      { source: "/:path*", headers: staticHeaders },
      { source: "/api/:path*", headers: [{ key: "Content-Security-Policy", value: apiContentSecurityPolicy }] },
    ];
  },
};

export default nextConfig;
