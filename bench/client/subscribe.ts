import { Agent, request } from "node:http";
import type { Target } from "./sse-connection";

/**
 * `stream.subscribe` as the browser sends it: a tRPC mutation over HTTP (superjson, no batching),
 * with the account's cookie and origin. Keep-alive sockets, one pool per target: a browser reuses
 * its connection to the app too, and fresh sockets would compete for ephemeral ports with the ramp.
 */
const agents = new Map<string, Agent>();

function agentFor(target: Target): Agent {
  const key = `${target.host}:${target.port}`;
  let agent = agents.get(key);
  if (!agent) agents.set(key, (agent = new Agent({ keepAlive: true, maxSockets: 256 })));
  return agent;
}

export function subscribeRequest(target: Target, cookie: string, connectionId: string, projectId: string): Promise<void> {
  const body = JSON.stringify({ json: { connectionId, projectId } });
  const origin = `http://${target.host}:${target.port}`;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.host,
        port: target.port,
        method: "POST",
        path: "/api/trpc/stream.subscribe",
        agent: agentFor(target),
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          origin,
          ...(cookie ? { cookie } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          if (res.statusCode === 200) return resolve();
          reject(new Error(`stream.subscribe answered ${res.statusCode}: ${Buffer.concat(chunks).toString("utf8").slice(0, 200)}`));
        });
        res.on("error", reject);
      },
    );
    req.on("error", (err) => reject(new Error(`stream.subscribe request failed: ${err.message}`)));
    req.end(body);
  });
}
