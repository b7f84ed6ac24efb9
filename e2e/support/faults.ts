import type { APIRequestContext } from "@playwright/test";
import type { StepName } from "../../src/streaming/protocol";
import { testControlHeaders } from "./app-server";

export interface FaultInput {
  projectId: string;
  step: StepName;
  kind: "fail-once" | "hold";
  /** 0: right after the step's step.started; n: right after its n-th step.progress. */
  at?: number;
}

/** Registers a test-only fault in the app (src/server/faults.ts). */
export async function injectFault(request: APIRequestContext, baseURL: string, fault: FaultInput): Promise<void> {
  const res = await request.post(`${baseURL}/api/test/faults`, { data: fault, headers: testControlHeaders });
  if (!res.ok()) throw new Error(`faults control answered ${res.status()}: ${await res.text()}`);
}

/** Releases the project's held steps (one step, or all); returns how many holds were released. */
export async function releaseFaults(request: APIRequestContext, baseURL: string, projectId: string, step?: StepName): Promise<number> {
  const res = await request.post(`${baseURL}/api/test/faults/release`, {
    data: step ? { projectId, step } : { projectId },
    headers: testControlHeaders,
  });
  if (!res.ok()) throw new Error(`faults release control answered ${res.status()}: ${await res.text()}`);
  return ((await res.json()) as { released: number }).released;
}
