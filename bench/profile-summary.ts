import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * `npx tsx bench/profile-summary.ts <file.cpuprofile> [--top N] [--from S] [--to S]`: self time by
 * area (package, Node internals, app source) and by function, from a `node --cpu-prof` profile
 * (`npm run bench -- --profile`); --from/--to keep samples between S seconds after the profile's start;
 * --inclusive also lists total time (self + callees) by function, each function counted once per sample.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function area(url: string): string {
  if (url === "") return "(native/vm)";
  if (url.startsWith("node:"))
    return url
      .replace(/^node:(internal\/)?/, "node:")
      .split("/")
      .slice(0, 2)
      .join("/");
  const nm = url.lastIndexOf("node_modules/");
  if (nm !== -1) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  return path
    .relative(process.cwd(), url.replace(/^file:\/\//, ""))
    .split("/")
    .slice(0, 2)
    .join("/");
}

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i === -1 ? fallback : Number(args[i + 1]);
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args[0];
  if (!file) throw new Error("usage: tsx bench/profile-summary.ts <file.cpuprofile> [--top N] [--from S] [--to S]");
  const top = flag(args, "--top", 25);
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const from = profile.startTime + flag(args, "--from", 0) * 1e6;
  const to = profile.startTime + flag(args, "--to", Number.POSITIVE_INFINITY) * 1e6;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = args.includes("--inclusive") ? new Map<string, number>() : null;
  const byArea = new Map<string, number>();
  const byFn = new Map<string, number>();
  const label = (n: ProfileNode): string =>
    `${n.callFrame.functionName || "(anonymous)"}  ${area(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  let total = 0;
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    const node = byId.get(id);
    if (t < from || t > to || !node || node.callFrame.functionName === "(idle)") return;
    total += dt;
    const a = area(node.callFrame.url);
    byArea.set(a, (byArea.get(a) ?? 0) + dt);
    const fn = label(node);
    byFn.set(fn, (byFn.get(fn) ?? 0) + dt);
    if (inclusive) {
      const seen = new Set<string>();
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const n = byId.get(cur);
        if (n && n.callFrame.url !== "") seen.add(label(n));
      }
      for (const k of seen) inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
    }
  });
  console.log(`profile ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s long`);
  const show = (title: string, map: Map<string, number>): void => {
    console.log(`\n${title} (busy ${(total / 1000).toFixed(0)} ms, idle excluded)`);
    for (const [k, v] of [...map].sort((x, y) => y[1] - x[1]).slice(0, top)) {
      console.log(`${((100 * v) / total).toFixed(1).padStart(6)}%  ${(v / 1000).toFixed(0).padStart(7)} ms  ${k}`);
    }
  };
  show("Self time by area", byArea);
  show("Self time by function", byFn);
  if (inclusive) show("Total time (self + callees) by function", inclusive);
}

main();
