import { readFileSync } from "node:fs";

/**
 * Thousands of held connections need as many file descriptors in the server and in its load client.
 * Children are started through `sh` raising their soft open-files limit to the hard one (always
 * allowed); the hard limit itself can only be raised with CAP_SYS_RESOURCE, so when it is too low
 * the ramp stops below its top step and the report says so (see `fileLimitNote`).
 */
export function spawnWithFileLimit(execPath: string, args: string[]): { command: string; args: string[] } {
  return { command: "/bin/sh", args: ["-c", 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', execPath, ...args] };
}

export interface FileLimits {
  soft: number;
  hard: number;
}

export function fileLimits(pid: number | "self"): FileLimits {
  const text = readFileSync(`/proc/${pid}/limits`, "utf8");
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  const n = (v: string | undefined) => (v === undefined || v === "unlimited" ? Number.POSITIVE_INFINITY : Number(v));
  return { soft: n(m?.[1]), hard: n(m?.[2]) };
}

/** Null when `connections` fit under the hard limit (plus `margin`), else a line saying what to do. */
export function fileLimitNote(connections: number, margin: number): string | null {
  const { hard } = fileLimits("self");
  if (hard >= connections + margin) return null;
  return `open-files hard limit is ${hard} (ulimit -Hn): a process cannot hold ${connections.toLocaleString("en-US")} connections plus its own files; the capacity ramp stops at what fits. Raise it (root / CAP_SYS_RESOURCE: ulimit -Hn ${connections + 1024}, or LimitNOFILE / docker --ulimit nofile) for the full step.`;
}
