"use client";

import { useState, type FormEvent, type KeyboardEvent } from "react";
import type { SendState } from "@/hooks/use-send-message";
import { limitMessages, limits } from "@/src/server/limits";

const MAX = limits.messageMaxChars;

export function Composer({
  ready,
  state,
  onSend,
  onRetry,
}: {
  ready: boolean;
  state: SendState;
  onSend: (content: string) => Promise<boolean>;
  onRetry: () => Promise<boolean>;
}) {
  const [content, setContent] = useState("");
  const busy = state.phase === "waiting" || state.phase === "sending";
  const tooLong = content.length > MAX;

  async function submit(e?: FormEvent) {
    e?.preventDefault();
    if (!ready || busy || tooLong || content.trim() === "") return;
    const sent = await onSend(content);
    // On failure the text stays in the box, so nothing the user typed is lost.
    if (sent) setContent("");
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) void submit();
  }

  return (
    <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
      <textarea
        data-testid="composer-input"
        aria-label="Describe your API"
        rows={3}
        placeholder="A bookstore API with books (title, author -> authors, isbn unique, price:number) and authors (name, bio?)"
        value={content}
        onChange={(e) => setContent(e.target.value)}
        onKeyDown={onKeyDown}
      />
      <div className="row" style={{ justifyContent: "space-between" }}>
        <span className={tooLong ? "field-error" : "muted"} data-testid="composer-count">
          {content.length.toLocaleString()} / {MAX.toLocaleString()}
        </span>
        <button type="submit" className="primary" data-testid="send-button" disabled={!ready || busy || tooLong || content.trim() === ""}>
          {state.phase === "waiting" ? "Connecting…" : state.phase === "sending" ? "Sending…" : "Send"}
        </button>
      </div>
      {tooLong && (
        <p className="field-error" role="alert" data-testid="composer-too-long">
          {limitMessages.messageTooLong()}; this one has {content.length.toLocaleString()}.
        </p>
      )}
      {state.phase === "error" && (
        <div className="banner bad row" role="alert" data-testid="send-error">
          <span>{state.message}</span>
          {state.retryable && (
            <button type="button" data-testid="send-retry" onClick={() => void onRetry().then((sent) => sent && setContent(""))}>
              Retry
            </button>
          )}
        </div>
      )}
    </form>
  );
}
