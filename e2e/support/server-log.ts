import type { APIRequestContext } from "@playwright/test";
import type { LoggedEvent } from "../../src/streaming/protocol";
import { testControlHeaders } from "./app-server";

/** The project's event log as the server holds it (test-only control). */
export async function serverLog(request: APIRequestContext, baseURL: string, projectId: string): Promise<LoggedEvent[]> {
  const res = await request.get(`${baseURL}/api/test/projects/${projectId}/log`, { headers: testControlHeaders });
  if (!res.ok()) throw new Error(`log control answered ${res.status()}`);
  const body = (await res.json()) as { events: LoggedEvent[] };
  return body.events;
}

export async function closeStreams(request: APIRequestContext, baseURL: string, projectId: string): Promise<number> {
  const res = await request.post(`${baseURL}/api/test/projects/${projectId}/close-streams`, { headers: testControlHeaders });
  if (!res.ok()) throw new Error(`close-streams control answered ${res.status()}`);
  return ((await res.json()) as { closed: number }).closed;
}
