"use client";

import { useQuery } from "@tanstack/react-query";
import { z } from "zod";

const dependency = z.object({ ok: z.boolean(), error: z.string().optional() });
const healthSchema = z.object({
  status: z.enum(["ok", "degraded"]),
  database: dependency,
  jobEngine: dependency.extend({ kind: z.string() }),
  eventLog: dependency.extend({ kind: z.string() }).optional(),
});

/** Shows, app-wide, when a dependency is down; the app keeps working where it can and recovers by itself. */
export function HealthBanner() {
  const health = useQuery({
    queryKey: ["health"],
    queryFn: async () => {
      const res = await fetch("/api/health", { cache: "no-store" });
      return healthSchema.parse(await res.json());
    },
    // While degraded, look again soon: recovery happens by itself and the banner should follow it.
    refetchInterval: (query) => (query.state.data?.status === "degraded" ? 3_000 : 15_000),
    retry: false,
  });
  if (!health.data || health.data.status === "ok") return null;
  const problems: string[] = [];
  if (!health.data.database.ok) problems.push("the database is unreachable");
  if (!health.data.jobEngine.ok)
    problems.push(`the job engine (${health.data.jobEngine.kind}) is unreachable — messages you send are kept and can be retried`);
  if (health.data.eventLog && !health.data.eventLog.ok) {
    problems.push(
      "live progress is degraded (event log unreachable) — messages you send are kept and can be retried; progress resumes when it is back",
    );
  }
  return (
    <div className="banner" role="alert" data-testid="health-banner" style={{ marginBottom: 16 }}>
      Degraded service: {problems.join("; ")}.
    </div>
  );
}
