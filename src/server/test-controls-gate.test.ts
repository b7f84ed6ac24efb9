/**
 * The test-only controls cannot be switched on by accident in production: the gate's rules, the
 * request listener's use of the token, and the real server entry refusing to start.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createRequestListener } from "./request-listener";
import {
  mayUseTestControls,
  resolveTestControls,
  TestControlsRefusedError,
  TEST_CONTROLS_TOKEN_HEADER,
  type TestControlsGate,
} from "./test-controls-gate";
import { StreamSlots } from "./stream-limits";
import { FaultRegistry } from "./faults";
import { streamTestControls, withTestControls } from "./test-controls";
import { MemoryEventLog, StreamingService } from "../streaming";
import { allowAll } from "../streaming/test-harness";

const TOKEN = "t".repeat(40);
const base = { NODE_ENV: "production", HOSTNAME: "127.0.0.1", GENSTREAM_TEST_CONTROLS: "1", GENSTREAM_TEST_CONTROLS_TOKEN: TOKEN } as const;

describe("resolveTestControls", () => {
  it("off unless GENSTREAM_TEST_CONTROLS=1, whatever else is set", () => {
    expect(resolveTestControls({ ...base, GENSTREAM_TEST_CONTROLS: "0" })).toEqual({ enabled: false });
    expect(resolveTestControls({ ...base, NODE_ENV: "development", GENSTREAM_TEST_CONTROLS: "0" })).toEqual({ enabled: false });
  });

  it("production: on only with a token and a loopback address (a test run)", () => {
    expect(resolveTestControls(base)).toEqual({ enabled: true, token: TOKEN });
    expect(resolveTestControls({ ...base, HOSTNAME: "::1" })).toEqual({ enabled: true, token: TOKEN });
    expect(() => resolveTestControls({ ...base, GENSTREAM_TEST_CONTROLS_TOKEN: undefined })).toThrow(TestControlsRefusedError);
    expect(() => resolveTestControls({ ...base, GENSTREAM_TEST_CONTROLS_TOKEN: undefined })).toThrow(
      /without GENSTREAM_TEST_CONTROLS_TOKEN/,
    );
    for (const host of ["0.0.0.0", "::", "10.0.0.5", "genstream.example.com"]) {
      expect(() => resolveTestControls({ ...base, HOSTNAME: host })).toThrow(new RegExp(`listening on ${host.replace(/\./g, "\\.")}`));
    }
  });

  it("development and test: on without a token (enforced when set)", () => {
    expect(
      resolveTestControls({ ...base, NODE_ENV: "development", HOSTNAME: "0.0.0.0", GENSTREAM_TEST_CONTROLS_TOKEN: undefined }),
    ).toEqual({ enabled: true, token: null });
    expect(resolveTestControls({ ...base, NODE_ENV: "test" })).toEqual({ enabled: true, token: TOKEN });
  });

  it("a request needs the exact token", () => {
    const gate: TestControlsGate = { enabled: true, token: TOKEN };
    expect(mayUseTestControls(gate, { [TEST_CONTROLS_TOKEN_HEADER]: TOKEN })).toBe(true);
    expect(mayUseTestControls(gate, {})).toBe(false);
    expect(mayUseTestControls(gate, { [TEST_CONTROLS_TOKEN_HEADER]: `${TOKEN}x` })).toBe(false);
    expect(mayUseTestControls(gate, { [TEST_CONTROLS_TOKEN_HEADER]: "u".repeat(40) })).toBe(false);
    expect(mayUseTestControls({ enabled: false }, { [TEST_CONTROLS_TOKEN_HEADER]: TOKEN })).toBe(false);
    expect(mayUseTestControls({ enabled: true, token: null }, {})).toBe(true);
  });
});

describe("the test controls around the request listener", () => {
  async function serve(gate: TestControlsGate) {
    const silent = pino({ level: "silent" });
    const streaming = new StreamingService({ log: new MemoryEventLog(), logger: silent, authorize: allowAll });
    const fallback = (_req: http.IncomingMessage, res: http.ServerResponse) =>
      res.writeHead(404, { "content-type": "application/json" }).end('{"from":"app"}');
    const production = createRequestListener({ streaming, slots: new StreamSlots(), log: silent, trustProxy: false, fallback });
    const controls = [streamTestControls({ streaming, faults: new FaultRegistry(silent), log: silent })];
    // As server.ts mounts them: around the production listener (which knows nothing of them).
    const server = http.createServer(gate.enabled ? withTestControls(production, { gate, controls, log: silent }) : production);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/test/no-such-control`;
    const get = async (headers: Record<string, string>) => {
      const res = await fetch(url, { headers });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    return {
      get,
      close: async () => {
        server.close();
        await streaming.shutdown();
      },
    };
  }

  it("serves /api/test/* only with the token; otherwise the path is the app's like any other", async () => {
    const on = await serve({ enabled: true, token: TOKEN });
    try {
      // A control answer (the controls' own 404 for an unknown control) only with the token.
      expect(await on.get({ [TEST_CONTROLS_TOKEN_HEADER]: TOKEN })).toEqual({ status: 404, body: { error: "unknown test control" } });
      expect(await on.get({})).toEqual({ status: 404, body: { from: "app" } });
      expect(await on.get({ [TEST_CONTROLS_TOKEN_HEADER]: "wrong" })).toEqual({ status: 404, body: { from: "app" } });
    } finally {
      await on.close();
    }
    const off = await serve({ enabled: false });
    try {
      expect(await off.get({ [TEST_CONTROLS_TOKEN_HEADER]: TOKEN })).toEqual({ status: 404, body: { from: "app" } });
    } finally {
      await off.close();
    }
  });
});

describe("the production server entry (server.ts)", () => {
  // Each case exits before opening anything: the checks come first in main().
  /** Starts server.ts as `npm start` does and resolves with its exit code and output, once it has exited. */
  async function startServer(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, ["--import", "tsx", "server.ts"], {
      env: {
        PATH: process.env.PATH ?? "",
        NODE_ENV: "production",
        PORT: "65000",
        LOG_LEVEL: "info",
        BETTER_AUTH_SECRET: "s".repeat(40),
        INNGEST_SIGNING_KEY: `signkey-test-${"ab".repeat(32)}`,
        PGLITE_DIR: "/nonexistent/never-opened",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    return { code, output };
  }

  it("refuses to start with GENSTREAM_TEST_CONTROLS=1 on a public address or without a token, or without INNGEST_SIGNING_KEY", async () => {
    const [publicAddress, noToken, unsignedJobs] = await Promise.all([
      startServer({ GENSTREAM_TEST_CONTROLS: "1", GENSTREAM_TEST_CONTROLS_TOKEN: TOKEN, HOSTNAME: "0.0.0.0" }),
      startServer({ GENSTREAM_TEST_CONTROLS: "1", HOSTNAME: "127.0.0.1" }),
      startServer({ HOSTNAME: "127.0.0.1", INNGEST_SIGNING_KEY: "" }),
    ]);
    expect(publicAddress.code).toBe(1);
    expect(publicAddress.output).toContain("server failed to start");
    expect(publicAddress.output).toContain("GENSTREAM_TEST_CONTROLS=1 is refused in production while listening on 0.0.0.0");
    expect(noToken.code).toBe(1);
    expect(noToken.output).toContain("GENSTREAM_TEST_CONTROLS=1 is refused in production without GENSTREAM_TEST_CONTROLS_TOKEN");
    // And a production server whose /api/inngest could not verify the job engine's signatures.
    expect(unsignedJobs.code).toBe(1);
    expect(unsignedJobs.output).toContain("INNGEST_SIGNING_KEY is not set");
  }, 60_000);
});
