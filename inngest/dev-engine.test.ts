import path from "node:path";
import { describe, expect, it } from "vitest";
import { chooseDevEngine, findInngestCli } from "./dev-engine";

const cwd = "/srv/app";
const installed =
  (...files: string[]) =>
  (file: string) =>
    files.includes(file);

describe("npm run dev's job engine", () => {
  it("uses the embedded executor when no inngest-cli is installed, and says why", () => {
    expect(chooseDevEngine({ PATH: "/usr/bin" }, cwd, installed())).toEqual({
      kind: "embedded-executor",
      command: "tsx inngest/local/main.ts",
      reason: "no inngest-cli binary installed (node_modules/.bin or PATH)",
    });
  });

  it("uses the real dev server from node_modules/.bin first, then PATH, pointed at the app", () => {
    const local = path.join(cwd, "node_modules", ".bin", "inngest-cli");
    expect(chooseDevEngine({ PATH: "/opt/bin", PORT: "4000" }, cwd, installed(local, "/opt/bin/inngest-cli"))).toMatchObject({
      kind: "inngest-cli",
      binary: local,
      command: `"${local}" dev --no-discovery -u http://127.0.0.1:4000/api/inngest --port 8288`,
    });
    expect(findInngestCli(cwd, "/a:/opt/bin", installed("/opt/bin/inngest"))).toBe("/opt/bin/inngest");
  });

  it("can be forced either way; forcing the CLI without one installed is an error", () => {
    expect(
      chooseDevEngine({ GENSTREAM_DEV_ENGINE: "embedded" }, cwd, installed(path.join(cwd, "node_modules", ".bin", "inngest"))),
    ).toMatchObject({ kind: "embedded-executor" });
    expect(() => chooseDevEngine({ GENSTREAM_DEV_ENGINE: "inngest-cli", PATH: "" }, cwd, installed())).toThrow("no inngest-cli binary");
    expect(() => chooseDevEngine({ GENSTREAM_DEV_ENGINE: "cloud" }, cwd, installed())).toThrow("invalid environment");
  });
});
