"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { authClient } from "@/src/auth/client";

/** The signed-in user's email and a sign-out button (in the header of every page). */
export function UserMenu({ email }: { email: string }) {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function signOut() {
    setPending(true);
    setError(null);
    const result = await authClient.signOut();
    if (result.error) {
      setPending(false);
      setError(result.error.message ?? "Could not sign out");
      return;
    }
    // refresh(): nothing of the signed-out user's pages stays in the router cache.
    router.replace("/sign-in");
    router.refresh();
  }

  return (
    <span className="row user-menu">
      <span className="muted" data-testid="current-user">
        {email}
      </span>
      <button type="button" data-testid="sign-out" disabled={pending} onClick={() => void signOut()}>
        {pending ? "Signing out…" : "Sign out"}
      </button>
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
