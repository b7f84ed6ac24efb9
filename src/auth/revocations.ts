/**
 * Counts session deletions (sign-out, revoke, user deletion) made through this process's auth
 * instance, whose database hook calls `note()`. Whoever caches verified sessions (the stream
 * authorizer) compares `generation` before trusting its cache, so a sign-out handled by this
 * process takes effect at once for it. One per process, in the services (src/services.ts).
 */
export class SessionRevocations {
  private count = 0;

  get generation(): number {
    return this.count;
  }

  note(): void {
    this.count += 1;
  }
}
