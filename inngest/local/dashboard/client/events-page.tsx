import { useState, type KeyboardEvent } from "react";
import type { EventView } from "../protocol";
import { postJson } from "./api";
import { formatTime } from "./format";
import { useAction } from "./hooks";
import { JsonBlock, Status } from "./json-block";
import type { Route } from "./route";
import type { DashboardState } from "./store";

const EXAMPLE = JSON.stringify({ name: "api/iterate", data: {} }, null, 2);

type Sent = { ids: string[] };
const sendEvent = (event: unknown) => postJson<Sent>("events", { event });
const replayEvent = (eventId: string) => postJson<Sent>(`events/${eventId}/replay`);

export function EventsPage({ state, eventId, navigate }: { state: DashboardState; eventId?: string; navigate: (r: Route) => void }) {
  const selected = eventId ? state.events.find((e) => e.internalId === eventId) : undefined;
  const onRowKey = (e: KeyboardEvent<HTMLTableRowElement>, id: string) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      navigate({ page: "events", eventId: id });
    }
  };
  return (
    <div className={`split${eventId ? " with-detail" : ""}`}>
      <div>
        <SendEvent navigate={navigate} />
        <table data-testid="events-table">
          <caption className="muted">
            {state.events.length} of {state.totals.events} received events, newest first
          </caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Received</th>
              <th scope="col">Runs</th>
            </tr>
          </thead>
          <tbody>
            {state.events.map((e) => (
              <tr
                key={e.internalId}
                className="row"
                tabIndex={0}
                aria-selected={e.internalId === eventId}
                data-testid="event-row"
                data-event-id={e.internalId}
                data-event-name={e.name}
                onClick={() => navigate({ page: "events", eventId: e.internalId })}
                onKeyDown={(k) => onRowKey(k, e.internalId)}
              >
                <td>
                  <span className="mono">{e.name}</span>
                  <div className="mono muted">{e.internalId}</div>
                </td>
                <td>{formatTime(e.receivedAt)}</td>
                <td>{state.runs.filter((r) => r.eventId === e.internalId).length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {eventId && <EventDetail event={selected} eventId={eventId} state={state} navigate={navigate} />}
    </div>
  );
}

function SendEvent({ navigate }: { navigate: (r: Route) => void }) {
  const [text, setText] = useState(EXAMPLE);
  const [parseError, setParseError] = useState<string | null>(null);
  const [sent, setSent] = useState<string[] | null>(null);
  const send = useAction(sendEvent);
  const submit = async () => {
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch (err) {
      setParseError(`not JSON: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    setParseError(null);
    const result = await send.run(event);
    if (result) setSent(result.ids);
  };
  return (
    <section className="panel" aria-label="Send a test event">
      <h2>Send a test event</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label htmlFor="event-json" className="muted">
          The event as JSON: <code>name</code>, <code>data</code>, and optionally <code>id</code>, <code>ts</code>, <code>user</code>{" "}
          (Ctrl+Enter sends)
        </label>
        <textarea
          id="event-json"
          rows={6}
          spellCheck={false}
          value={text}
          data-testid="event-send-json"
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void submit();
            }
          }}
        />
        <button type="submit" className="primary" disabled={send.busy} data-testid="event-send">
          Send event
        </button>
      </form>
      {(parseError ?? send.error) && (
        <p className="notice bad" role="alert" data-testid="event-send-error">
          {parseError ?? send.error}
        </p>
      )}
      {sent && (
        <p className="notice" role="status" data-testid="event-send-result">
          Sent:{" "}
          {sent.map((id) => (
            <a
              key={id}
              href={`/dashboard/events/${id}`}
              className="mono"
              onClick={(e) => {
                e.preventDefault();
                navigate({ page: "events", eventId: id });
              }}
            >
              {id}
            </a>
          ))}
        </p>
      )}
    </section>
  );
}

function EventDetail({
  event,
  eventId,
  state,
  navigate,
}: {
  event: EventView | undefined;
  eventId: string;
  state: DashboardState;
  navigate: (r: Route) => void;
}) {
  const replay = useAction(replayEvent);
  const runs = state.runs.filter((r) => r.eventId === eventId).reverse();
  return (
    <section className="panel" data-testid="event-detail" data-event-id={eventId} aria-label={`Event ${eventId}`}>
      <h2>
        <span className="mono">{event?.name ?? eventId}</span>
        <span className="actions">
          <button
            type="button"
            data-testid="event-replay"
            disabled={!event || replay.busy}
            onClick={() =>
              void replay.run(eventId).then((r) => {
                const id = r?.ids[0];
                if (id) navigate({ page: "events", eventId: id });
              })
            }
          >
            Replay
          </button>
          <button type="button" aria-label="Close event" onClick={() => navigate({ page: "events" })}>
            ✕
          </button>
        </span>
      </h2>
      {replay.error && (
        <p className="notice bad" role="alert">
          {replay.error}
        </p>
      )}
      {!event ? (
        <p className="muted">Not among the newest events the engine sent; GET /v1/events/{eventId} reads it.</p>
      ) : (
        <>
          <dl className="facts">
            <dt>Internal id</dt>
            <dd className="mono">{event.internalId}</dd>
            <dt>Id</dt>
            <dd className="mono">{event.id}</dd>
            <dt>Received</dt>
            <dd>{formatTime(event.receivedAt)}</dd>
          </dl>
          <h3>Payload</h3>
          <JsonBlock value={event.payload} label="Event payload" testId="event-payload" />
        </>
      )}
      <h3>Runs</h3>
      {runs.length === 0 ? (
        <p className="muted" data-testid="event-no-runs">
          No runs (no function listens to it, or they were skipped: see the engine&apos;s log).
        </p>
      ) : (
        <ul data-testid="event-runs">
          {runs.map((r) => (
            <li key={r.runId}>
              <Status status={r.status} />{" "}
              <a
                href={`/dashboard/runs/${r.runId}`}
                data-testid="event-run-link"
                onClick={(e) => {
                  e.preventDefault();
                  navigate({ page: "runs", runId: r.runId });
                }}
              >
                {r.functionId} <span className="mono">{r.runId}</span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
