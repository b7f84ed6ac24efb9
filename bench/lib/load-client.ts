import { spawn, type ChildProcess } from "node:child_process";
import { spawnWithFileLimit } from "./file-limit";
import type { CommandArgs, CommandName, CommandReply, CommandResults } from "../client/commands";

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

/** The orchestrator's handle on the load client process (bench/client/main.ts), one command at a time. */
export class LoadClient {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  private constructor(private readonly child: ChildProcess) {
    child.on("message", (message: CommandReply) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`load client: ${message.error}`));
    });
    child.once("exit", (code, signal) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`load client exited (${signal ?? code})`));
      this.pending.clear();
    });
  }

  /** Starts the client and waits for its hello (id 0) on the IPC channel; `profileDir`: node --cpu-prof into it. */
  static start(profileDir?: string): Promise<LoadClient> {
    const profile = profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [];
    const cmd = spawnWithFileLimit(process.execPath, [...profile, "--expose-gc", "--import", "tsx", "bench/client/main.ts"]);
    const child = spawn(cmd.command, cmd.args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const client = new LoadClient(child);
    return new Promise((resolve, reject) => {
      client.pending.set(0, { resolve: () => resolve(client), reject });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error("load client has no pid");
    return this.child.pid;
  }

  call<K extends CommandName>(cmd: K, args: CommandArgs<K>): Promise<CommandResults[K]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // The client answers command K with CommandResults[K] (bench/client/main.ts); IPC carries it untyped.
      this.pending.set(id, { resolve: (r) => resolve(r as CommandResults[K]), reject });
      this.child.send({ id, cmd, args });
    });
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.disconnect();
    });
  }
}
