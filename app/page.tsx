import { redirect } from "next/navigation";
import { getServerCaller } from "@/src/server/caller";
import { getCurrentUser } from "@/src/auth/current-user";
import { signInPath } from "@/src/auth/next-path";
import { ProjectsHome } from "@/components/projects-home";

export const dynamic = "force-dynamic";

export default async function HomePage() {
  if (!(await getCurrentUser())) redirect(signInPath("/"));
  const caller = await getServerCaller();
  const projects = await caller.project.list();
  return <ProjectsHome initialProjects={projects} />;
}
