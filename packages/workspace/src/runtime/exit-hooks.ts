/**
 * `flushOnExit`: one set of process listeners shared by every workspace that asked for it. On
 * `SIGTERM`/`SIGINT` every registered close runs, then (when nobody else listens for that signal)
 * the signal is raised again so the process ends as it was meant to; `beforeExit` closes them too.
 */
const closers = new Set<() => Promise<void>>();
let installed = false;

function closeAll(): Promise<unknown> {
  const all = [...closers];
  closers.clear();
  return Promise.allSettled(all.map((close) => close()));
}

function onSignal(signal: NodeJS.Signals): void {
  uninstall();
  void closeAll().then(() => {
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

const onTerm = (): void => onSignal("SIGTERM");
const onInt = (): void => onSignal("SIGINT");
const onBeforeExit = (): void => {
  uninstall();
  void closeAll();
};

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off("SIGTERM", onTerm);
  process.off("SIGINT", onInt);
  process.off("beforeExit", onBeforeExit);
}

/** Registers a workspace's close; returns the function that unregisters it (called by close()). */
export function closeOnExit(close: () => Promise<void>): () => void {
  closers.add(close);
  if (!installed) {
    installed = true;
    process.on("SIGTERM", onTerm);
    process.on("SIGINT", onInt);
    process.on("beforeExit", onBeforeExit);
  }
  return () => {
    closers.delete(close);
    if (closers.size === 0) uninstall();
  };
}
