/** Small pure helpers of the dashboard's views. */

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1_000);
  return m < 60 ? `${m} min ${s} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function between(from: string | undefined, to: string | undefined, now: number): number | undefined {
  if (from === undefined) return undefined;
  const end = to === undefined ? now : Date.parse(to);
  return end - Date.parse(from);
}

export function formatTime(iso: string | undefined): string {
  if (iso === undefined) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleTimeString(undefined, { hour12: false }) + `.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

/** JSON for display: compact and cut at `max` characters when long (`full` is it indented, to expand). */
export function preview(value: unknown, max = 240): { text: string; truncated: boolean; full: string } {
  if (value === undefined) return { text: "undefined", truncated: false, full: "undefined" };
  const full = JSON.stringify(value, null, 2) ?? typeof value;
  if (full.length <= max) return { text: full, truncated: false, full };
  const compact = JSON.stringify(value) ?? typeof value;
  return compact.length <= max ? { text: compact, truncated: true, full } : { text: `${compact.slice(0, max)}…`, truncated: true, full };
}
