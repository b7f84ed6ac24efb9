import Link from "next/link";

/** Shown instead of a project the signed-in user does not own: a clear answer, not a crash. */
export function Forbidden() {
  return (
    <div className="card stack" data-testid="forbidden">
      <h1 style={{ margin: 0 }}>No access</h1>
      <p className="muted">This project belongs to another account. Sign in as its owner to open it.</p>
      <Link href="/">Back to your projects</Link>
    </div>
  );
}
