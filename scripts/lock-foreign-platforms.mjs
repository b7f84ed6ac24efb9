// The registry mirror this project is developed against serves only linux-x64 builds of native
// optional packages, so `npm install` leaves other platforms' entries out of package-lock.json and
// `npm ci` then refuses the lock as out of sync. This adds those entries back (os/cpu only, so npm
// skips them on this platform exactly as it would with a full registry). Run after `npm install`.
import { readFileSync, writeFileSync } from "node:fs";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const packages = lock.packages;
const platform = (name) => {
  const m =
    /-(android|darwin|freebsd|linux|openharmony|win32)-(arm64|arm|x64|ia32|loong64|ppc64|riscv64|s390x)(?:-(gnu|musl|gnueabihf|musleabihf|eabi|msvc))?$/.exec(
      name,
    );
  if (!m) return null;
  const [, os, cpu, abi] = m;
  const libc = os === "linux" ? [abi?.startsWith("musl") ? "musl" : "glibc"] : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc } : {}) };
};

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  const optional = entry.optionalDependencies ?? {};
  for (const [dep, version] of Object.entries(optional)) {
    const key = `node_modules/${dep}`;
    if (packages[key] || packages[`${path}/node_modules/${dep}`]) continue;
    const p = platform(dep);
    if (!p) continue;
    packages[key] = { version, ...p, ...(entry.dev ? { dev: true } : {}), optional: true };
    added += 1;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
writeFileSync("package-lock.json", `${JSON.stringify(lock, null, 2)}\n`);
console.log(JSON.stringify({ added }));
