import { signUp } from "../lib/accounts";
import { createProject } from "../lib/trpc";
import type { ProjectRef } from "../client/commands";

/** Well under the app's per-user project limit; the benchmark signs up as many users as it needs. */
export const PROJECTS_PER_ACCOUNT = 50;

/**
 * Creates `count` projects through tRPC (the stream authorizer only admits a project's signed-in
 * owner), spread over fresh accounts of `perAccount` each (fewer when each project gets a message:
 * the app limits messages per user and minute).
 */
export async function createProjects(
  baseUrl: string,
  count: number,
  prefix: string,
  perAccount = PROJECTS_PER_ACCOUNT,
): Promise<ProjectRef[]> {
  const refs: ProjectRef[] = [];
  for (let first = 0; first < count; first += perAccount) {
    const account = await signUp(baseUrl, `${prefix}-${first / perAccount}`);
    const n = Math.min(perAccount, count - first);
    let next = 0;
    const ids: string[] = new Array<string>(n);
    const worker = async (): Promise<void> => {
      while (next < n) {
        const i = next++;
        ids[i] = await createProject(baseUrl, `${prefix} ${first + i}`, account);
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, n) }, worker));
    for (const id of ids) refs.push({ id, cookie: account.cookie });
  }
  return refs;
}
