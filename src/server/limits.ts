import { z } from "zod";

/**
 * Every per-user limit of the app, declared once. Routers, the stream authorizer, the server's body
 * check, the UI and the tests import these values rather than repeat them. Each limit answers with
 * its own clear error (see `limitMessages`), which the UI shows as is.
 *
 * This module is imported by client components too (the composer's counter), so it reads no server
 * environment except the one override below, guarded like src/streaming/config.ts.
 */

const positiveInt = z.preprocess((v) => (v === "" ? undefined : v), z.coerce.number().int().positive().max(1_000_000).optional());

/**
 * Concurrent streams per user can be raised for load tests (`npm run bench` holds thousands of one
 * user's connections): GENSTREAM_MAX_STREAMS_PER_USER. No deployment needs it.
 */
function streamOverride(): number | undefined {
  const raw = typeof process === "undefined" || process.env === undefined ? undefined : process.env.GENSTREAM_MAX_STREAMS_PER_USER;
  const parsed = positiveInt.safeParse(raw);
  if (!parsed.success)
    throw new Error(`Invalid environment: GENSTREAM_MAX_STREAMS_PER_USER: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}

export const limits = {
  /** Characters in one chat message (after trimming). */
  messageMaxChars: 8_000,
  /** Characters in a project name. */
  projectNameMaxChars: 80,
  /** Messages one user may send per rolling minute, over all their projects (counted in the database). */
  messagesPerMinute: 20,
  /** Projects one user may own. */
  projectsPerUser: 100,
  /**
   * Live streams one user may hold open at once on one app instance: each per-project stream (tabs
   * × projects), each multiplexed connection and each of its project subscriptions takes one.
   */
  concurrentStreamsPerUser: streamOverride() ?? 20,
  /** Request body of any /api/* call (tRPC, auth), checked before it is read. */
  requestBodyMaxBytes: 256 * 1024,
  /**
   * Request body of the Inngest endpoint. A call carries the event and the job's memoized step
   * results: the message (at most messageMaxChars), the plan and small summaries; the generated
   * OpenAPI text and files stay in the database. Measured (inngest/functions/generate-api.test.ts):
   * the largest call of the tests' largest plan is 2.8 KB (48.7 KB when the outputs were memoized);
   * a plan at the generator's caps (50 resources × 100 fields) makes a ~0.46 MB plan step result.
   * 1 MB holds that with room to spare.
   */
  inngestRequestBodyMaxBytes: 1024 * 1024,
  /** Sign-in and sign-up attempts per client IP per minute (Better Auth's rate limiter). */
  authAttemptsPerMinute: 30,
} as const;

function kib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MB` : `${bytes / 1024} KB`;
}

/** The words each limit answers with; shared by the server and the tests that assert them. */
export const limitMessages = {
  messageTooLong: (max: number = limits.messageMaxChars) => `Message must be at most ${max} characters`,
  projectNameTooLong: (max: number = limits.projectNameMaxChars) => `Name must be at most ${max} characters`,
  tooManyMessages: (max: number = limits.messagesPerMinute) =>
    `You can send at most ${max} messages per minute. Wait a moment, then send again.`,
  tooManyProjects: (max: number = limits.projectsPerUser) =>
    `You have reached the limit of ${max} projects per account; no more can be created.`,
  tooManyStreams: (max: number = limits.concurrentStreamsPerUser) =>
    `You have ${max} live streams open, the most allowed at once. Close another tab of Genstream, then retry.`,
  bodyTooLarge: (max: number) => `Request body too large: the limit is ${kib(max)}.`,
} as const;
