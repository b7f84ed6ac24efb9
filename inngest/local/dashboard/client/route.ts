/** The dashboard's pages, as paths under /dashboard (real links: reload, back and new tabs work). */
export type Route = { page: "runs"; runId?: string } | { page: "events"; eventId?: string } | { page: "functions" };

export function parseRoute(pathname: string): Route {
  const parts = pathname
    .replace(/^\/dashboard\/?/, "")
    .split("/")
    .filter(Boolean)
    .map(decodeURIComponent);
  const [page, id] = parts;
  if (page === "events") return id ? { page: "events", eventId: id } : { page: "events" };
  if (page === "functions") return { page: "functions" };
  if (page === "runs" && id) return { page: "runs", runId: id };
  return { page: "runs" };
}

export function routePath(route: Route): string {
  switch (route.page) {
    case "runs":
      return route.runId ? `/dashboard/runs/${encodeURIComponent(route.runId)}` : "/dashboard/runs";
    case "events":
      return route.eventId ? `/dashboard/events/${encodeURIComponent(route.eventId)}` : "/dashboard/events";
    case "functions":
      return "/dashboard/functions";
  }
}
