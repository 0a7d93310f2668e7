import { type ChildProcess, fork } from "node:child_process";
import { inject } from "vitest";
import type { MountConfig } from "./env.js";

export interface WorkerError extends Error {
  code?: string | undefined;
}

/** One real process holding the shared mount. */
export class Proc {
  readonly child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: WorkerError) => void }>();
  readonly #events: Array<(event: string) => void> = [];
  #next = 0;
  readonly ready: Promise<void>;

  constructor(config: MountConfig) {
    this.child = fork(inject("shared").worker, [JSON.stringify(config)], {
      execArgv: [],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.ready = new Promise((resolve, reject) => {
      this.#events.push((event) => (event === "ready" ? resolve() : undefined));
      this.child.once("exit", (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
    });
    this.child.on(
      "message",
      (m: {
        id?: number;
        ok?: boolean;
        value?: unknown;
        code?: string;
        message?: string;
        event?: string;
      }) => {
        if (m.event) {
          for (const listener of this.#events) listener(m.event);
          return;
        }
        const waiter = this.#pending.get(m.id!);
        this.#pending.delete(m.id!);
        if (!waiter) return;
        if (m.ok) waiter.resolve(m.value);
        else {
          const error: WorkerError = new Error(m.message);
          error.code = m.code;
          waiter.reject(error);
        }
      },
    );
    this.child.on("exit", () => {
      for (const w of this.#pending.values())
        w.reject(Object.assign(new Error("worker exited"), { code: "EXITED" }));
      this.#pending.clear();
    });
  }

  call<T = unknown>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, args });
    });
  }

  once(event: string): Promise<void> {
    return new Promise((resolve) => this.#events.push((e) => (e === event ? resolve() : undefined)));
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    await this.call("exit").catch(() => undefined);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export async function startProcs(n: number, config: (i: number) => MountConfig): Promise<Proc[]> {
  const procs = Array.from({ length: n }, (_, i) => new Proc(config(i)));
  await Promise.all(procs.map((p) => p.ready));
  return procs;
}

export async function closeAll(procs: readonly Proc[]): Promise<void> {
  await Promise.all(procs.map((p) => p.close()));
}
