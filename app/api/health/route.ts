import { healthReport } from "@/src/server/health";
import { services } from "@/src/services";

export const dynamic = "force-dynamic";

export async function GET() {
  const report = await healthReport(await services());
  return Response.json(report, { status: report.status === "ok" ? 200 : 503, headers: { "Cache-Control": "no-store" } });
}
