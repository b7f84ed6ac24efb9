import Link from "next/link";

export default function NotFound() {
  return (
    <div className="card stack" data-testid="not-found">
      <h1 style={{ margin: 0 }}>Not found</h1>
      <p className="muted">This project does not exist, or it was deleted.</p>
      <Link href="/">Back to projects</Link>
    </div>
  );
}
