import { setTimeout as scheduleDelay } from "node:timers/promises";
import type { ObservedClient } from "./observed-client";
import type { Random } from "./seeded-random";

export interface DropScheduleOptions {
  /** Drops this client goes through (each one followed by the client's own reconnect). */
  cycles: number;
  /** Longest time a client stays connected before its next drop (uniform in [0, max]). */
  maxUpMs: number;
  /** Share of cycles that also drop the reconnecting socket as soon as it opens (mid-handshake or replay). */
  handshakeDropRate: number;
}

/**
 * One client's chaos: after each `ready`, stay up for a seeded-random time (the schedule, not a
 * synchronisation), then kill its socket; sometimes kill the next socket as soon as it opens too
 * (the drop lands mid-handshake, before its replay).
 * Each cycle ends with the reconnected socket's `ready`; resolves when every cycle is done.
 */
export async function runDropSchedule(client: ObservedClient, random: Random, options: DropScheduleOptions): Promise<void> {
  await client.waitUntilReady();
  for (let cycle = 0; cycle < options.cycles;) {
    const upMs = Math.floor(random() * options.maxUpMs);
    const handshakeDrop = random() < options.handshakeDropRate;
    if (upMs > 0) await scheduleDelay(upMs);
    // Registered before the drop: only a reconnect's ready counts, never the state the drop interrupts.
    const reconnected = client.nextReady();
    if (handshakeDrop) client.dropOnNextOpen();
    if (client.drop()) cycle++;
    await reconnected;
  }
}
