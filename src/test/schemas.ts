import pg from "pg";

/**
 * Drops schemas a test or a deployment check made in a shared PostgreSQL (CI keeps its database
 * between runs, so whatever is left there is seen by the next run).
 */
export async function dropSchemas(url: string, schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}
