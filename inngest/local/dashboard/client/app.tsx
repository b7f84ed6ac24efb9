import { useEffect, useState } from "react";
import { ActionError, getSession, postJson } from "./api";
import { EventsPage } from "./events-page";
import { FunctionsPage } from "./functions-page";
import { useLiveState, useRoute } from "./hooks";
import type { Route } from "./route";
import { routePath } from "./route";
import { RunsPage } from "./runs-page";

type Session = { state: "checking" } | { state: "signed-in" } | { state: "needs-key" } | { state: "error"; message: string };

export function App() {
  const [session, setSession] = useState<Session>({ state: "checking" });
  useEffect(() => {
    getSession().then(
      (s) => setSession(s.signedIn ? { state: "signed-in" } : { state: "needs-key" }),
      (err: unknown) => setSession({ state: "error", message: String(err) }),
    );
  }, []);
  if (session.state === "checking") return <p className="notice">Connecting to the engine…</p>;
  if (session.state === "error") return <p className="notice bad">{session.message}</p>;
  if (session.state === "needs-key") return <SignIn onSignedIn={() => setSession({ state: "signed-in" })} />;
  return <Dashboard />;
}

function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      className="signin"
      onSubmit={(e) => {
        e.preventDefault();
        postJson("sign-in", { key }).then(onSignedIn, (err: unknown) => setError(err instanceof ActionError ? err.message : String(err)));
      }}
    >
      <h1>Genstream engine</h1>
      <label htmlFor="signin-key">This executor runs with a signing key. Enter it (INNGEST_SIGNING_KEY) to open the dashboard.</label>
      <input
        id="signin-key"
        type="password"
        autoComplete="current-password"
        value={key}
        onChange={(e) => setKey(e.target.value)}
        data-testid="signin-key"
        autoFocus
      />
      <button type="submit" className="primary" data-testid="signin-submit">
        Sign in
      </button>
      {error && (
        <p className="notice bad" role="alert" data-testid="signin-error">
          {error}
        </p>
      )}
    </form>
  );
}

const PAGES: { page: Route["page"]; label: string }[] = [
  { page: "runs", label: "Runs" },
  { page: "events", label: "Events" },
  { page: "functions", label: "Functions / App" },
];

function Dashboard() {
  const { state, live } = useLiveState(true);
  const [route, navigate] = useRoute();
  return (
    <>
      <header className="top">
        <h1>Genstream engine</h1>
        <nav aria-label="Dashboard">
          {PAGES.map(({ page, label }) => (
            <a
              key={page}
              href={routePath({ page })}
              aria-current={route.page === page ? "page" : undefined}
              data-testid={`nav-${page}`}
              onClick={(e) => {
                e.preventDefault();
                navigate({ page });
              }}
            >
              {label}
            </a>
          ))}
        </nav>
        <span className="live" role="status" data-testid="live-status" data-state={live}>
          {live === "open" ? "live" : live === "connecting" ? "connecting…" : "disconnected"}
        </span>
      </header>
      <main>
        {!state ? (
          <p className="notice">Loading…</p>
        ) : route.page === "runs" ? (
          <RunsPage state={state} runId={route.runId} navigate={navigate} />
        ) : route.page === "events" ? (
          <EventsPage state={state} eventId={route.eventId} navigate={navigate} />
        ) : (
          <FunctionsPage state={state} />
        )}
      </main>
    </>
  );
}
