/** A thrown value as one line of text, for log fields and user-facing reasons. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
