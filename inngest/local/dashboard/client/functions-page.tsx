import type { SyncResult } from "../../types";
import { postJson } from "./api";
import { formatDuration, formatTime } from "./format";
import { useAction } from "./hooks";
import type { DashboardState } from "./store";

const resync = () => postJson<{ result: SyncResult }>("sync");

export function FunctionsPage({ state }: { state: DashboardState }) {
  const { health, functions } = state.app;
  const sync = useAction(resync);
  return (
    <div>
      <section className="panel" aria-label="App" data-testid="app-panel">
        <h2>
          App
          <span className="actions">
            <button type="button" className="primary" data-testid="resync" disabled={sync.busy} onClick={() => void sync.run()}>
              {sync.busy ? "Syncing…" : "Re-sync"}
            </button>
          </span>
        </h2>
        <dl className="facts">
          <dt>URL</dt>
          <dd className="mono">{health.appUrl}</dd>
          <dt>Sync</dt>
          <dd data-testid="sync-status" data-synced={health.synced}>
            {health.synced ? "synced" : health.lastSyncAt ? "sync failed" : "not synced yet"}
          </dd>
          <dt>Last synced</dt>
          <dd data-testid="sync-at">{formatTime(health.lastSyncAt ?? undefined)}</dd>
          <dt>Requests</dt>
          <dd>
            {health.signed ? "signed with INNGEST_SIGNING_KEY" : "unsigned (dev mode)"}
            {health.appVerifiesSignatures === false && " — the app does not verify them"}
          </dd>
          <dt>Runs</dt>
          <dd>
            {health.runs.active} active, {health.runs.total} held
          </dd>
        </dl>
        {(sync.error ?? health.syncError) && (
          <p className="notice bad" role="alert" data-testid="sync-error">
            {sync.error ?? health.syncError}
          </p>
        )}
        {health.refused.length > 0 && (
          <>
            <h3>Refused at sync</h3>
            <ul>
              {health.refused.map((r) => (
                <li key={r.id}>
                  <span className="mono">{r.id}</span>: {r.reasons.join("; ")}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
      <h2>Functions ({functions.length})</h2>
      <div className="grid2">
        {functions.map((fn) => (
          <section key={fn.id} className="panel" data-testid="function-card" data-function-id={fn.id} aria-label={`Function ${fn.id}`}>
            <h2>
              {fn.name} <span className="mono muted">{fn.id}</span>
            </h2>
            <dl className="facts">
              <dt>Triggers</dt>
              <dd className="chips">
                {fn.triggers.map((t) => (
                  <span key={t.event + (t.expression ?? "")} className="chip">
                    {t.event}
                    {t.expression ? ` if ${t.expression}` : ""}
                  </span>
                ))}
              </dd>
              <dt>Retries</dt>
              <dd>{fn.retries}</dd>
              <dt>Concurrency</dt>
              <dd>
                {fn.concurrency.length === 0
                  ? "unlimited"
                  : fn.concurrency.map((c) => (
                      <div key={`${c.scope}${c.key ?? ""}`}>
                        {c.limit} per {c.key ? <span className="chip">{c.key}</span> : "function"} ({c.scope})
                      </div>
                    ))}
              </dd>
              <dt>Idempotency</dt>
              <dd>{fn.idempotency ? <span className="chip">{fn.idempotency}</span> : "—"}</dd>
              <dt>Cancel on</dt>
              <dd>
                {fn.cancelOn.length === 0
                  ? "—"
                  : fn.cancelOn.map((c) => (
                      <div key={c.event + (c.if ?? "")}>
                        <span className="chip">{c.event}</span>
                        {c.if && (
                          <>
                            {" "}
                            if <span className="chip">{c.if}</span>
                          </>
                        )}
                        {c.timeoutMs !== undefined && <> within {formatDuration(c.timeoutMs)}</>}
                      </div>
                    ))}
              </dd>
            </dl>
          </section>
        ))}
      </div>
    </div>
  );
}
