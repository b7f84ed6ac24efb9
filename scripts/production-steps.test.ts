import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PRODUCTION_STEPS } from "./production-steps";

/** The Dockerfile's build and run commands, in order: exactly the steps the CI script runs. */
describe("Dockerfile", () => {
  const dockerfile = readFileSync("Dockerfile", "utf8");
  const runs = dockerfile
    .split("\n")
    .filter((line) => line.startsWith("RUN npm "))
    .map((line) => line.slice("RUN ".length));
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];

  it("RUNs install, build and prune exactly as scripts/production-install.ts does", () => {
    expect(runs).toEqual([PRODUCTION_STEPS.install, PRODUCTION_STEPS.build, PRODUCTION_STEPS.prune]);
  });

  it("starts the app with the same command", () => {
    expect(cmd && (JSON.parse(cmd) as string[]).join(" ")).toBe(PRODUCTION_STEPS.start);
  });

  it("runs as a non-root user, in production, with a health check on /api/health", () => {
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENV NODE_ENV=production /m);
    expect(dockerfile).toMatch(/^HEALTHCHECK [\s\S]*\/api\/health/m);
  });
});
