"use client";

import { useEffect, useRef } from "react";
import type { MessageView } from "@/src/server/snapshots";
import { ArtifactViewer } from "./artifact-viewer";

export type ChatMessage = MessageView & { optimistic?: boolean };

/** Message content is rendered as text nodes only: user input and generated output never become HTML. */
export function MessageList({
  projectId,
  messages,
  onRetry,
  retrying,
}: {
  projectId: string;
  messages: ChatMessage[];
  onRetry: (messageId: string) => void;
  retrying: boolean;
}) {
  const bottom = useRef<HTMLDivElement>(null);
  // Follow the conversation: a new message (sent, or the assistant's reply) scrolls into view.
  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [messages.length]);
  if (messages.length === 0) {
    return (
      <p className="muted" data-testid="no-messages">
        Describe an API, for example: “A bookstore API with books (title, author -&gt; authors, isbn unique, price:number, published:date)
        and authors (name, bio?)”.
      </p>
    );
  }
  return (
    <div className="messages" data-testid="messages">
      {messages.map((m) => (
        <article
          key={m.id}
          className={`message ${m.role}`}
          data-testid="message"
          data-role={m.role}
          data-message-id={m.id}
          data-optimistic={m.optimistic ? "true" : undefined}
        >
          <div className="meta">
            {m.role === "user" ? "You" : "Genstream"} · {m.createdAt.toLocaleTimeString()}
            {m.optimistic && " · sending…"}
            {m.role === "user" && m.dispatch === "failed" && (
              <>
                <span className="error"> · not delivered to the job engine </span>
                <button type="button" data-testid="message-retry" disabled={retrying} onClick={() => onRetry(m.id)}>
                  Retry
                </button>
              </>
            )}
          </div>
          <div data-testid="message-content">{m.content}</div>
          {m.role === "assistant" && m.artifactVersion !== null && <ArtifactViewer projectId={projectId} version={m.artifactVersion} />}
        </article>
      ))}
      <div ref={bottom} />
    </div>
  );
}
