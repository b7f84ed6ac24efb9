import { cpuTime } from "./proc";

const wallClock = (): number => performance.timeOrigin + performance.now();

/**
 * A process's CPU time (utime + stime from /proc/<pid>/stat) sampled every `everyMs` on the bench's
 * wall clock, so the CPU of a window known only afterwards (e.g. "while every generation streamed")
 * can be read off it. Between samples the CPU time is interpolated linearly; /proc counts in 10 ms
 * ticks, so a window should span many samples.
 */
export class CpuTimeline {
  private readonly at: number[] = [];
  private readonly cpuMs: number[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly pid: number) {}

  start(everyMs: number): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sample();
  }

  /** CPU ms spent between two wall-clock instants inside the sampled span (NaN outside it). */
  between(from: number, to: number): number {
    return this.cpuAt(to) - this.cpuAt(from);
  }

  cpuAt(t: number): number {
    const n = this.at.length;
    const first = this.at[0];
    const last = this.at[n - 1];
    if (first === undefined || last === undefined || t < first || t > last) return Number.NaN;
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((this.at[mid] ?? 0) <= t) lo = mid;
      else hi = mid;
    }
    const t0 = this.at[lo] ?? 0;
    const t1 = this.at[hi] ?? 0;
    const c0 = this.cpuMs[lo] ?? 0;
    const c1 = this.cpuMs[hi] ?? 0;
    return t1 === t0 ? c1 : c0 + ((c1 - c0) * (t - t0)) / (t1 - t0);
  }

  private sample(): void {
    try {
      const { cpuMs } = cpuTime(this.pid);
      this.at.push(wallClock());
      this.cpuMs.push(cpuMs);
    } catch {
      // The process exited: the timeline ends at its last sample.
    }
  }
}
