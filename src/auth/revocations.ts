/**
 * A process-wide count of session deletions (sign-out, revoke, user deletion), bumped by the auth
 * instance's database hook. Whoever caches verified sessions compares it before trusting its cache,
 * so a sign-out handled by this process takes effect at once for it. On globalThis: the custom
 * server and Next's module graphs hold separate copies of this module but share one count.
 */
const slot = globalThis as unknown as { __genstreamSessionRevocations?: number };

export function sessionRevocations(): number {
  return slot.__genstreamSessionRevocations ?? 0;
}

export function noteSessionRevoked(): void {
  slot.__genstreamSessionRevocations = sessionRevocations() + 1;
}
