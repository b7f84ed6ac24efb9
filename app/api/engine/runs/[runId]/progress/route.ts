import { engineReadKey, engineRunProgress } from "@/src/server/engine-progress";
import { services } from "@/src/services";

export const dynamic = "force-dynamic";

/** The progress events one run published, for the job engine's dashboard (src/server/engine-progress.ts). */
export async function GET(request: Request, { params }: { params: Promise<{ runId: string }> }) {
  const { config, db, streaming } = await services();
  const { runId } = await params;
  const answer = await engineRunProgress(
    { db: db.db, streaming, engineKey: engineReadKey(config) },
    request.headers.get("authorization"),
    runId,
  );
  return Response.json(answer.body, { status: answer.status, headers: { "Cache-Control": "no-store" } });
}
