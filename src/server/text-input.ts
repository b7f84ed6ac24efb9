import { z } from "zod";

/**
 * PostgreSQL cannot store a NUL character in a text column (the insert fails), so text that will be
 * stored refuses it up front, as bad input, instead of surfacing as a server error.
 */
export const hasNoNul = (value: string): boolean => !value.includes("\u0000");

/** Ids the app issues (messages, runs): short and URL-safe. Anything else cannot name a row. */
export const rowIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be an id of 1-64 letters, digits, '-' or '_'");
