/**
 * Response headers every answer carries (pages, API, the stream), and the Content-Security-Policy.
 * Imported by server.ts (every response, including the stream Next never sees), next.config.ts
 * (the same headers when Next answers alone) and proxy.ts (the per-request page policy).
 */
export const securityHeaders: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "strict-origin-when-cross-origin",
  // Legacy twin of frame-ancestors 'none' for browsers without CSP level 2.
  "X-Frame-Options": "DENY",
};

/** API answers are data, never documents: nothing may load from them or frame them. */
export const apiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The pages' policy. Scripts: only Next's own, each carrying this request's nonce ('strict-dynamic'
 * lets them load the chunks they import). Styles allow 'unsafe-inline' because React server-renders
 * `style` attributes, which a nonce cannot cover; styles cannot run code. Development adds
 * 'unsafe-eval', which React's dev build needs for its error overlays.
 */
export function pageContentSecurityPolicy(nonce: string, dev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    "connect-src 'self'",
    // The shared stream's SharedWorker (src/client/shared-stream/worker.ts): same-origin scripts only.
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}
