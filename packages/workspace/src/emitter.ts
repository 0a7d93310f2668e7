// biome-ignore lint/suspicious/noExplicitAny: listener maps are keyed by event name with any payload.
type Listener = (payload: any) => void;

/**
 * A small typed event emitter. Unlike Node's, emitting `"error"` without a listener does not
 * throw: the workspace keeps failed writes pending (flushMounts and close report them), so an
 * unobserved error is never lost, and a background timer never crashes the process.
 */
export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener>>();

  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): this {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return this;
  }

  once<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): this {
    const wrapper = (payload: Events[K]): void => {
      this.off(event, wrapper);
      listener(payload);
    };
    return this.on(event, wrapper);
  }

  off<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): this {
    this.#listeners.get(event)?.delete(listener);
    return this;
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Calls every listener; a listener that throws does not stop the others or the caller. */
  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
