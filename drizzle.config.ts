import { defineConfig } from "drizzle-kit";

/**
 * `npm run db:generate` (a migration from schema changes), `db:studio`: against DATABASE_URL's
 * PostgreSQL, or the embedded PGlite (PGLITE_DIR, default .data/pglite) when it is unset — the same
 * choice the app makes. Stop the app before opening its PGlite directory: one process at a time.
 */
const schema = "./src/db/schema.ts";
const out = "./src/db/migrations";
const url = process.env.DATABASE_URL;

export default url
  ? defineConfig({ dialect: "postgresql", schema, out, dbCredentials: { url } })
  : defineConfig({
      dialect: "postgresql",
      driver: "pglite",
      schema,
      out,
      dbCredentials: { url: process.env.PGLITE_DIR ?? ".data/pglite" },
    });
