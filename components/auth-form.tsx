"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { authClient } from "@/src/auth/client";

type Mode = "sign-in" | "sign-up";

/**
 * Email + password sign-in or sign-up. On success the browser holds the session cookie (set by
 * /api/auth) and goes to `next` (already checked to be a path of this app).
 */
export function AuthForm({ mode, next }: { mode: Mode; next: string }) {
  const router = useRouter();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const signUp = mode === "sign-up";

  async function submit(e: FormEvent) {
    e.preventDefault();
    setPending(true);
    setError(null);
    const result = signUp
      ? await authClient.signUp.email({ name: name.trim() || email, email, password })
      : await authClient.signIn.email({ email, password });
    if (result.error) {
      setPending(false);
      setError(result.error.message ?? (signUp ? "Could not create the account" : "Could not sign in"));
      return;
    }
    // refresh(): the server components (header, pages) render again as the signed-in user.
    router.replace(next);
    router.refresh();
  }

  const other = signUp ? "/sign-in" : "/sign-up";
  return (
    <section className="card stack auth-card">
      <h1 style={{ margin: 0, fontSize: 22 }}>{signUp ? "Create an account" : "Sign in"}</h1>
      <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
        {signUp && (
          <label className="stack-tight">
            <span>Name</span>
            <input data-testid="name-input" autoComplete="name" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} />
          </label>
        )}
        <label className="stack-tight">
          <span>Email</span>
          <input
            data-testid="email-input"
            type="email"
            autoComplete="email"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label className="stack-tight">
          <span>Password{signUp ? " (at least 8 characters)" : ""}</span>
          <input
            data-testid="password-input"
            type="password"
            autoComplete={signUp ? "new-password" : "current-password"}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button className="primary" type="submit" data-testid={signUp ? "sign-up-submit" : "sign-in-submit"} disabled={pending}>
          {pending ? (signUp ? "Creating…" : "Signing in…") : signUp ? "Create account" : "Sign in"}
        </button>
        {error && (
          <p className="field-error" role="alert" data-testid="auth-error">
            {error}
          </p>
        )}
      </form>
      <p className="muted">
        {signUp ? "Already have an account? " : "No account yet? "}
        <Link href={`${other}?next=${encodeURIComponent(next)}`} data-testid={signUp ? "to-sign-in" : "to-sign-up"}>
          {signUp ? "Sign in" : "Create one"}
        </Link>
      </p>
    </section>
  );
}
