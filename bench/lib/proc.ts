import { readdirSync, readFileSync } from "node:fs";

/** What the kernel says about a process: resident memory, CPU time (user + system), open files. */
export interface ProcSample {
  rssBytes: number;
  /** user + system */
  cpuMs: number;
  systemMs: number;
  openFiles: number;
}

const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** A process's CPU time from /proc/<pid>/stat only (cheap enough to sample every few ms). */
export function cpuTime(pid: number): { cpuMs: number; systemMs: number } {
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the line.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND, systemMs: (Number(fields[12]) * 1000) / CLOCK_TICKS_PER_SECOND };
}

export function sampleProcess(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
  return { rssBytes: rssKb * 1024, ...cpuTime(pid), openFiles: readdirSync(`/proc/${pid}/fd`).length };
}

/** The soft limit on open files of a running process. */
export function openFilesLimit(pid: number): number {
  const limits = readFileSync(`/proc/${pid}/limits`, "utf8");
  const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
  return soft === undefined || soft === "unlimited" ? Number.POSITIVE_INFINITY : Number(soft);
}
