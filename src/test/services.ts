/**
 * The real services the integration suites run against. They default to the local PostgreSQL and
 * Redis every development and CI machine of this project has; there is no "skip when absent": a
 * missing service fails the suite with the connection error, so a green run always means the suites
 * really ran.
 */
export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
export const TEST_REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
