import net from "node:net";

/**
 * One hand-written HTTP request to a stream, over a raw socket, so a test can send what no HTTP
 * client would (any bytes in a header or the query). Resolves once the answer is conclusive: a
 * non-200 response has ended, or the SSE stream reached `ready`, `reset` or `error`. A probe that
 * gets neither within `limitMs` resolves as `hung` — the caller treats it as a failure.
 */
export type ProbeOutcome =
  | { kind: "status"; status: number }
  | { kind: "event"; status: 200; event: "ready" | "reset" | "error"; data: string }
  | { kind: "closed"; status: number | null; received: string }
  | { kind: "hung"; received: string };

export function probeStream(port: number, requestHead: string, limitMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let received = "";
    let settled = false;
    const finish = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    // A bound on a possibly hung connection, not synchronisation: reaching it fails the case.
    const timer = setTimeout(() => finish({ kind: "hung", received: received.slice(0, 500) }), limitMs);
    socket.setEncoding("latin1");
    socket.on("error", () => finish({ kind: "closed", status: statusOf(received), received: received.slice(0, 500) }));
    socket.on("close", () => {
      const status = statusOf(received);
      finish(status !== null && status !== 200 ? { kind: "status", status } : { kind: "closed", status, received: received.slice(0, 500) });
    });
    socket.on("data", (chunk: string) => {
      received += chunk;
      const status = statusOf(received);
      if (status === null || status !== 200) return;
      const event = /\nevent: (ready|reset|error)\ndata: ([^\n]*)\n/.exec(received);
      if (event?.[1] === "ready" || event?.[1] === "error") {
        finish({ kind: "event", status: 200, event: event[1], data: event[2] ?? "" });
      } else if (event?.[1] === "reset" && /\nevent: ready\n/.test(received)) {
        finish({ kind: "event", status: 200, event: "reset", data: event[2] ?? "" });
      }
    });
    socket.write(Buffer.from(requestHead, "latin1"));
  });
}

function statusOf(received: string): number | null {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
  return match?.[1] ? Number(match[1]) : null;
}

/** Percent-encodes the value's UTF-8 (lone surrogates become U+FFFD, as a browser sends them). */
export function percentEncode(value: string): string {
  return encodeURIComponent(Buffer.from(value, "utf8").toString("utf8"));
}
