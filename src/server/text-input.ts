/**
 * PostgreSQL cannot store a NUL character in a text column (the insert fails), so text that will be
 * stored refuses it up front, as bad input, instead of surfacing as a server error.
 */
export const hasNoNul = (value: string): boolean => !value.includes("\u0000");
