"use client";

import { useQuery } from "@tanstack/react-query";
import { healthProblems, healthSchema } from "@/src/client/health-summary";

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
  const problems = health.data ? healthProblems(health.data) : [];
  if (problems.length === 0) return null;
  return (
    <div className="banner" role="alert" data-testid="health-banner" style={{ marginBottom: 16 }}>
      Degraded service: {problems.join("; ")}.
    </div>
  );
}
