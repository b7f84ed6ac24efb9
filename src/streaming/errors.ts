import type { z } from "zod";

/** A publisher handed the stream something that is not a valid progress event. Never logged, never sent. */
export class InvalidEventError extends Error {
  override readonly name = "InvalidEventError";
  constructor(
    message: string,
    readonly issues: z.core.$ZodIssue[] = [],
  ) {
    super(message);
  }
}
