/**
 * The `?next=` of the sign-in page: only a path of this app, never another origin
 * (`//evil.example`, `/\evil.example` and `javascript:` would be open redirects).
 */
export function safeNextPath(raw: string | null | undefined): string {
  if (!raw || raw.length > 2_000) return "/";
  if (!raw.startsWith("/") || raw.startsWith("//") || raw.includes("\\")) return "/";
  try {
    const url = new URL(raw, "http://genstream.invalid");
    if (url.origin !== "http://genstream.invalid") return "/";
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return "/";
  }
}

export function signInPath(next: string): string {
  return `/sign-in?next=${encodeURIComponent(safeNextPath(next))}`;
}
