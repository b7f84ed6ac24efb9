import { redirect } from "next/navigation";
import { AuthForm } from "@/components/auth-form";
import { getCurrentUser } from "@/src/auth/current-user";
import { safeNextPath } from "@/src/auth/next-path";

export const dynamic = "force-dynamic";

export default async function SignUpPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const raw = (await searchParams).next;
  const next = safeNextPath(typeof raw === "string" ? raw : null);
  if (await getCurrentUser()) redirect(next);
  return <AuthForm mode="sign-up" next={next} />;
}
