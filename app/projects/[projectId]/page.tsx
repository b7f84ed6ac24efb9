import { notFound, redirect } from "next/navigation";
import { TRPCError } from "@trpc/server";
import { getServerCaller } from "@/src/server/caller";
import { getCurrentUser } from "@/src/auth/current-user";
import { signInPath } from "@/src/auth/next-path";
import { ProjectView } from "@/components/project-view";
import { Forbidden } from "@/components/forbidden";

export const dynamic = "force-dynamic";

async function loadProject(projectId: string) {
  const caller = await getServerCaller();
  try {
    // project.get reads the stream cursor before the runs: the client resumes from exactly here.
    const state = await caller.project.get({ projectId });
    const messages = await caller.message.list({ projectId });
    return { kind: "ok" as const, ...state, messages };
  } catch (error) {
    if (error instanceof TRPCError && (error.code === "NOT_FOUND" || error.code === "BAD_REQUEST")) return { kind: "missing" as const };
    if (error instanceof TRPCError && error.code === "FORBIDDEN") return { kind: "forbidden" as const };
    throw error;
  }
}

export default async function ProjectPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  if (!(await getCurrentUser())) redirect(signInPath(`/projects/${encodeURIComponent(projectId)}`));
  const state = await loadProject(projectId);
  if (state.kind === "missing") notFound();
  if (state.kind === "forbidden") return <Forbidden />;
  return <ProjectView project={state.project} initialCursor={state.cursor} initialRuns={state.runs} initialMessages={state.messages} />;
}
