import { randomBytes } from "node:crypto";
import { type LazyMount, MountError } from "@ws/core";
import pg from "pg";
import { checkLockName, runLimited } from "./bucket-log.js";
import { putWithEtag, sleep, toBytes } from "./inner-io.js";
import { INLINE_ENTRY_BYTES, inlineData, type LogEntry, type LoggedOp, type SharedTree } from "./tree.js";
import type {
  CommitOp,
  CommitOptions,
  CommitResult,
  Engine,
  EngineContext,
  LockOptions,
  MetadataEngineFactory,
  SharedLock,
  SharedStats,
} from "./types.js";

export interface PostgresMetadataOptions {
  /** `postgres://user@host:port/db`. Or give `config`. */
  readonly connectionString?: string | undefined;
  /** A `pg` client configuration (host, port, user, database, password, ssl...). */
  readonly config?: pg.ClientConfig | undefined;
  /** Prefix of the tables and of the notification channel. Default `"ws"` (`ws_files`, `ws_log`, `ws_locks`). */
  readonly table?: string | undefined;
  /** How long to wait for a connection, in ms. Default 5000. */
  readonly connectTimeoutMs?: number | undefined;
  /** Replaced and deleted objects are removed from the bucket this long after the commit, in ms. Default 60 000. */
  readonly gcDelayMs?: number | undefined;
  /** A re-read of the log this often even without a notification, in ms (a safety net). Default 30 000. */
  readonly pollMs?: number | undefined;
}

/** Tier 2: the tree in PostgreSQL, the bytes in the bucket. Pass as `SharedMount(mount, { metadata })`. */
export function PostgresMetadata(options: PostgresMetadataOptions): MetadataEngineFactory {
  const table = options.table ?? "ws";
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(table)) {
    throw new MountError(
      "EINVAL",
      `PostgresMetadata table prefix ${JSON.stringify(table)} must match [a-z_][a-z0-9_]*`,
    );
  }
  if (!options.connectionString && !options.config) {
    throw new MountError("EINVAL", "PostgresMetadata needs connectionString or config");
  }
  return (ctx) => new PgEngine(ctx, options, table);
}

const NETWORK = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "57P01",
]);

function where(options: PostgresMetadataOptions): string {
  const c = options.config;
  if (c) return `${c.host ?? "localhost"}:${c.port ?? 5432}`;
  try {
    const url = new URL(options.connectionString!);
    return `${url.hostname}:${url.port || 5432}`;
  } catch {
    return "the configured address";
  }
}

function pgCode(error: unknown): string | undefined {
  return (error as { code?: string } | undefined)?.code;
}

function dbError(
  error: unknown,
  options: PostgresMetadataOptions,
  what: string,
  unknownOutcome = false,
): MountError {
  if (MountError.isInstance(error)) return error;
  const code = pgCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (
    (code && NETWORK.has(code)) ||
    /Connection terminated|timeout|connect ECONNREFUSED|Client has encountered a connection error/i.test(
      message,
    )
  ) {
    return new MountError(
      "EIO",
      `${what}: the PostgreSQL metadata database at ${where(options)} is unreachable (${code ?? message}); ` +
        (unknownOutcome
          ? "the commit may or may not have been applied: read the file again before retrying"
          : "nothing was written; retry once it is back (acknowledged writes are kept in the database)"),
      { cause: error, transient: true },
    );
  }
  return new MountError("EIO", `${what}: PostgreSQL said: ${message}`, { cause: error });
}

function conflict(path: string, detail: string): MountError {
  return new MountError(
    "ESTALE",
    `conflict on ${path}: ${detail}; nothing of this commit was published (read it again, then retry)`,
    { path },
  );
}

/** An entry as the notification carries it. */
interface PushedEntry {
  readonly seq: number;
  readonly writer: string;
  readonly time: number;
  readonly ops: LoggedOp[];
}

interface Row {
  path: string;
  key: string;
  size: string;
  etag: string | null;
  mtime: string;
}

class PgLock implements SharedLock {
  readonly name: string;
  readonly token: number;
  #lost = false;
  #expiresAt: number;
  #timer: NodeJS.Timeout | undefined;
  readonly #engine: PgEngine;
  readonly #ttl: number;
  readonly #options: LockOptions;

  constructor(engine: PgEngine, name: string, token: number, ttl: number, options: LockOptions) {
    this.#engine = engine;
    this.name = name;
    this.token = token;
    this.#ttl = ttl;
    this.#options = options;
    this.#expiresAt = Date.now() + ttl;
    if (options.renew !== false) {
      this.#timer = setInterval(() => void this.#renew(), Math.max(10, Math.floor(ttl / 3)));
      this.#timer.unref();
    }
  }
  get lost(): boolean {
    return this.#lost || Date.now() >= this.#expiresAt;
  }
  get expiresAt(): number {
    return this.#expiresAt;
  }
  async #renew(): Promise<void> {
    if (this.#lost) return;
    try {
      const ok = await this.#engine.renew(this.name, this.token, this.#ttl);
      if (ok) this.#expiresAt = Date.now() + this.#ttl;
      else this.#lose(new MountError("ESTALE", `lock ${this.name}: lease expired and was taken over`));
    } catch {
      // Database unreachable: the lease runs out by itself; commits check it in the database anyway.
    }
  }
  #lose(error: Error): void {
    if (this.#lost) return;
    this.#lost = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#options.onLost?.(error);
  }
  async release(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#lost) return;
    this.#lost = true;
    await this.#engine.unlock(this.name, this.token);
  }
}

class PgEngine implements Engine {
  readonly tier = 2 as const;
  readonly #inner: LazyMount;
  readonly #stats: SharedStats;
  readonly #writer: string;
  readonly #options: PostgresMetadataOptions;
  readonly #t: { files: string; log: string; locks: string; tokens: string; channel: string; id: number };
  readonly #pool: pg.Pool;
  #listener: pg.Client | undefined;
  #tree!: SharedTree;
  #changed: () => void = () => undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #poll: NodeJS.Timeout | undefined;

  constructor(ctx: EngineContext, options: PostgresMetadataOptions, table: string) {
    this.#inner = ctx.inner;
    this.#stats = ctx.stats;
    this.#writer = ctx.writer;
    this.#options = options;
    let id = 0;
    for (const ch of table) id = (id * 31 + ch.charCodeAt(0)) | 0;
    this.#t = {
      files: `${table}_files`,
      log: `${table}_log`,
      locks: `${table}_locks`,
      tokens: `${table}_lock_tokens`,
      channel: `${table}_changes`,
      id,
    };
    this.#pool = new pg.Pool({ ...this.#clientConfig(), max: 4 });
    // An idle pooled client whose server went away must not crash the process.
    this.#pool.on("error", () => undefined);
  }

  #clientConfig(): pg.ClientConfig {
    return {
      ...(this.#options.config ?? {}),
      ...(this.#options.connectionString ? { connectionString: this.#options.connectionString } : {}),
      connectionTimeoutMillis: this.#options.connectTimeoutMs ?? 5000,
    };
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #query<R extends pg.QueryResultRow>(
    sql: string,
    params: unknown[] = [],
    what = "query",
  ): Promise<R[]> {
    this.#stats.queries++;
    try {
      return (await this.#pool.query<R>(sql, params)).rows;
    } catch (error) {
      throw dbError(error, this.#options, what);
    }
  }

  async start(tree: SharedTree, changed: () => void): Promise<void> {
    this.#tree = tree;
    const { files, log, locks, tokens, id } = this.#t;
    const client = await this.#connect("start");
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1)", [id]);
      await client.query(`CREATE TABLE IF NOT EXISTS ${files} (
        path text PRIMARY KEY, key text NOT NULL, size bigint NOT NULL, etag text, mtime bigint NOT NULL)`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${log} (
        seq bigserial PRIMARY KEY, writer text NOT NULL, time bigint NOT NULL, fence jsonb, ops jsonb NOT NULL)`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${locks} (
        name text PRIMARY KEY, token bigint NOT NULL, owner text, expires_at timestamptz NOT NULL)`);
      await client.query(`CREATE SEQUENCE IF NOT EXISTS ${tokens}`);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw dbError(error, this.#options, "start");
    } finally {
      client.release();
    }
    await this.#listen();
    await this.#serial(() => this.#snapshot());
    this.#changed = changed;
    const pollMs = this.#options.pollMs ?? 30_000;
    this.#poll = setInterval(() => void this.#follow(), pollMs);
    this.#poll.unref();
  }

  async #connect(what: string): Promise<pg.PoolClient> {
    this.#stats.queries++;
    try {
      return await this.#pool.connect();
    } catch (error) {
      throw dbError(error, this.#options, what);
    }
  }

  /** LISTEN on a dedicated connection; on its loss, re-connect, re-LISTEN, then re-read what was missed. */
  async #listen(): Promise<void> {
    const client = new pg.Client(this.#clientConfig());
    client.on("notification", (message) => void this.#notified(message.payload));
    const lost = (): void => {
      if (this.#listener !== client) return;
      this.#listener = undefined;
      client.end().catch(() => undefined);
      void this.#relisten();
    };
    client.on("error", lost);
    client.on("end", lost);
    try {
      await client.connect();
      await client.query(`LISTEN ${this.#t.channel}`);
    } catch (error) {
      client.removeAllListeners("end");
      await client.end().catch(() => undefined);
      throw dbError(error, this.#options, "listen");
    }
    this.#listener = client;
  }

  async #relisten(): Promise<void> {
    for (let attempt = 0; !this.#closed; attempt++) {
      await sleep(Math.min(2000, 100 * 2 ** attempt));
      if (this.#closed) return;
      try {
        await this.#listen();
        await this.#follow();
        return;
      } catch {
        // still down: try again
      }
    }
  }

  /** The whole tree and the log's head, from one snapshot. */
  async #snapshot(): Promise<void> {
    const client = await this.#connect("snapshot");
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const rows = (await client.query<Row>(`SELECT path, key, size, etag, mtime FROM ${this.#t.files}`))
        .rows;
      const head = (
        await client.query<{ seq: string }>(`SELECT coalesce(max(seq), 0) AS seq FROM ${this.#t.log}`)
      ).rows[0]!.seq;
      await client.query("COMMIT");
      this.#stats.queries += 3;
      this.#tree.load({
        seq: Number(head),
        files: rows.map((r) => [
          r.path,
          { key: r.key, size: Number(r.size), mtime: Number(r.mtime), ...(r.etag ? { etag: r.etag } : {}) },
        ]),
        fences: [],
      });
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw dbError(error, this.#options, "snapshot");
    } finally {
      client.release();
    }
  }

  /**
   * A notification: the entry itself when it fits in the payload (applied at once if it is the next
   * one), else its number (read the log). Either way through the same queue, in order.
   */
  #notified(payload: string | undefined): Promise<void> {
    if (payload && /^\d+$/.test(payload)) {
      // Only the number (the entry did not fit): read the log, unless this entry is here already.
      const seq = Number(payload);
      return this.#serial(async () => {
        if (seq > this.#tree.seq) await this.#catchUp();
      }).catch(() => undefined);
    }
    let pushed: PushedEntry | undefined;
    if (payload?.startsWith("{")) {
      try {
        pushed = JSON.parse(payload) as PushedEntry;
      } catch {
        pushed = undefined;
      }
    }
    return this.#applyOrRead(pushed);
  }

  /** Applies `pushed` when it is the next entry; else reads the log after the tree's head (if behind). */
  #applyOrRead(pushed: PushedEntry | undefined): Promise<void> {
    return this.#serial(async () => {
      if (pushed && pushed.seq <= this.#tree.seq) return;
      // Log order is commit order (one advisory lock): the next number cannot have an entry before it.
      if (pushed && Number.isSafeInteger(pushed.seq) && pushed.seq === this.#tree.seq + 1) {
        this.#tree.apply({
          v: 1,
          seq: pushed.seq,
          writer: pushed.writer,
          time: pushed.time,
          ops: pushed.ops,
        });
        this.#stats.applied++;
        this.#changed();
        return;
      }
      await this.#catchUp();
    }).catch(() => undefined);
  }

  #follow(): Promise<void> {
    return this.#serial(async () => {
      await this.#catchUp();
    }).catch(() => undefined);
  }

  async #catchUp(): Promise<number> {
    let applied = 0;
    for (;;) {
      const rows = await this.#query<{ seq: string; writer: string; time: string; ops: LoggedOp[] }>(
        `SELECT seq, writer, time, ops FROM ${this.#t.log} WHERE seq > $1 ORDER BY seq LIMIT 500`,
        [this.#tree.seq],
        "read the change log",
      );
      if (rows.length === 0) return applied;
      for (const row of rows) {
        const entry: LogEntry = {
          v: 1,
          seq: Number(row.seq),
          writer: row.writer,
          time: Number(row.time),
          ops: row.ops,
        };
        // Sequence numbers of rolled-back transactions leave gaps: entries are applied in order, gaps skipped.
        this.#tree.apply(entry);
        this.#stats.applied++;
        applied++;
        this.#changed();
      }
    }
  }

  fetch(path: string): Promise<Uint8Array> {
    const meta = this.#tree.files.get(path);
    if (!meta) return Promise.reject(new MountError("ENOENT", `${path}: no such file`, { path }));
    this.#stats.gets++;
    return this.#inner.fetch(meta.key);
  }

  async commit(ops: readonly CommitOp[], options: CommitOptions): Promise<CommitResult> {
    // The versions this commit is based on: what this process saw when it was called.
    const bases = new Map<string, string | null>();
    for (const op of ops) {
      if (op.op === "put") bases.set(op.path, this.#tree.files.get(op.path)?.etag ?? null);
    }
    // 1. Bytes first, each at a fresh key, 8 at a time: nothing visible changes until the
    // transaction commits.
    // By the op's index: two puts of one path in a commit stay in the caller's order.
    const uploaded = new Map<number, { key: string; etag: string; size: number; data?: string }>();
    const uploads: Array<() => Promise<void>> = [];
    const inlineBudget = { left: INLINE_ENTRY_BYTES };
    ops.forEach((op, index) => {
      if (op.op !== "put") return;
      const bytes = toBytes(op.bytes);
      const key = `.ws/objects/${randomBytes(12).toString("hex")}`;
      const data = inlineData(bytes, inlineBudget);
      uploads.push(async () => {
        const etag = await putWithEtag(this.#inner, this.#stats, key, bytes);
        uploaded.set(index, { key, etag, size: bytes.length, ...(data === undefined ? {} : { data }) });
      });
    });
    try {
      await runLimited(uploads, 8);
    } catch (error) {
      // The objects that did land are nobody's: remove them.
      for (const up of uploaded.values()) void this.#inner.delete?.(up.key).catch(() => undefined);
      throw error;
    }
    // 2. One transaction: checks, tree changes, log row, notification.
    const replaced: string[] = [];
    const { files, log, locks, channel, id } = this.#t;
    const client = await this.#connect("commit");
    let committing = false;
    let seq: number;
    let own: PushedEntry | undefined;
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1)", [id]);
      if (options.lock) {
        const { name, token } = options.lock;
        const rows = (
          await client.query<{ token: string; live: boolean }>(
            `SELECT token, expires_at > now() AS live FROM ${locks} WHERE name = $1 FOR UPDATE`,
            [name],
          )
        ).rows;
        const row = rows[0];
        if (!row || Number(row.token) !== token || !row.live) {
          throw new MountError(
            "ESTALE",
            `lock ${name}: token ${token} ${
              row && Number(row.token) !== token
                ? `was superseded by token ${row.token}`
                : "has expired (the lease ran out)"
            }; this write was rejected`,
          );
        }
      }
      const logged: LoggedOp[] = [];
      // The same ops with small files' bytes: only for the notification, never stored in the log.
      const pushed: LoggedOp[] = [];
      const now = Date.now();
      for (const [index, op] of ops.entries()) {
        if (op.op === "put") {
          const cur = (
            await client.query<{ etag: string | null; key: string }>(
              `SELECT etag, key FROM ${files} WHERE path = $1 FOR UPDATE`,
              [op.path],
            )
          ).rows[0];
          const curEtag = cur ? (cur.etag ?? "") : null;
          if (op.ifNoneMatch === "*" && cur) throw conflict(op.path, 'it exists (ifNoneMatch: "*")');
          if (op.ifMatch !== undefined && curEtag !== op.ifMatch) {
            throw conflict(op.path, `it is at version ${curEtag ?? "(none)"}, not ${op.ifMatch}`);
          }
          if (
            op.ifMatch === undefined &&
            op.ifNoneMatch === undefined &&
            curEtag !== (bases.get(op.path) ?? null)
          ) {
            throw conflict(
              op.path,
              "another process committed a change to it since this process last saw it",
            );
          }
          const up = uploaded.get(index)!;
          if (cur) replaced.push(cur.key);
          await client.query(
            `INSERT INTO ${files} (path, key, size, etag, mtime) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (path) DO UPDATE SET key = excluded.key, size = excluded.size, etag = excluded.etag, mtime = excluded.mtime`,
            [op.path, up.key, up.size, up.etag, now],
          );
          const put: LoggedOp = {
            op: "put",
            path: op.path,
            size: up.size,
            mtime: now,
            etag: up.etag,
            key: up.key,
          };
          logged.push(put);
          pushed.push(up.data === undefined ? put : { ...put, data: up.data });
        } else if (op.op === "delete") {
          const gone = await client.query<{ key: string }>(
            `DELETE FROM ${files} WHERE path = $1 OR left(path, length($1) + 1) = $1 || '/' RETURNING key`,
            [op.path],
          );
          replaced.push(...gone.rows.map((r) => r.key));
          logged.push({ op: "delete", path: op.path });
          pushed.push(logged[logged.length - 1]!);
        } else {
          const found = await client.query(
            `SELECT 1 FROM ${files} WHERE path = $1 OR left(path, length($1) + 1) = $1 || '/' LIMIT 1`,
            [op.from],
          );
          if (found.rowCount === 0) {
            throw new MountError("ENOENT", `rename ${op.from}: no such file or directory`, { path: op.from });
          }
          if (op.to === op.from || op.to.startsWith(`${op.from}/`)) {
            throw new MountError("EINVAL", `rename ${op.from} into itself`, { path: op.to });
          }
          const gone = await client.query<{ key: string }>(
            `DELETE FROM ${files} WHERE path = $1 OR left(path, length($1) + 1) = $1 || '/' RETURNING key`,
            [op.to],
          );
          replaced.push(...gone.rows.map((r) => r.key));
          await client.query(
            `UPDATE ${files} SET path = $2 || substr(path, length($1) + 1)
             WHERE path = $1 OR left(path, length($1) + 1) = $1 || '/'`,
            [op.from, op.to],
          );
          logged.push({ op: "rename", from: op.from, to: op.to });
          pushed.push(logged[logged.length - 1]!);
        }
      }
      const inserted = await client.query<{ seq: string }>(
        `INSERT INTO ${log} (writer, time, fence, ops) VALUES ($1, $2, $3, $4) RETURNING seq`,
        [
          this.#writer,
          now,
          options.lock ? JSON.stringify({ lock: options.lock.name, token: options.lock.token }) : null,
          JSON.stringify(logged),
        ],
      );
      seq = Number(inserted.rows[0]!.seq);
      // The entry itself rides on the notification when it fits (NOTIFY's payload limit is 8000
      // bytes): readers apply it, small files' bytes included, without a query or a GET.
      own = { seq, writer: this.#writer, time: now, ops: pushed };
      const entry = JSON.stringify(own);
      const payload = Buffer.byteLength(entry) < 7900 ? entry : String(seq);
      await client.query("SELECT pg_notify($1, $2)", [channel, payload]);
      committing = true;
      await client.query("COMMIT");
      this.#stats.queries += 4 + ops.length;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      // The fresh objects are nobody's: remove them.
      for (const up of uploaded.values()) void this.#inner.delete?.(up.key).catch(() => undefined);
      throw dbError(error, this.#options, "commit", committing);
    } finally {
      client.release();
    }
    // Our own entry, as the notification carries it: no query when nothing came in between.
    await this.#applyOrRead(own);
    this.#gc(replaced);
    return { seq };
  }

  #gc(keys: string[]): void {
    if (keys.length === 0 || !this.#inner.delete) return;
    // Readers that listed the old version may still fetch it for a while.
    const timer = setTimeout(() => {
      for (const key of keys) {
        this.#stats.deletes++;
        void this.#inner.delete?.(key).catch(() => undefined);
      }
    }, this.#options.gcDelayMs ?? 60_000);
    timer.unref();
  }

  async lock(name: string, options: LockOptions): Promise<SharedLock> {
    checkLockName(name);
    const ttl = options.ttlMs ?? 30_000;
    if (!(ttl >= 100)) throw new MountError("EINVAL", `lock ${name}: ttlMs must be at least 100, got ${ttl}`);
    const deadline = Date.now() + (options.waitMs ?? 30_000);
    const { locks, tokens } = this.#t;
    for (;;) {
      const rows = await this.#query<{ token: string }>(
        `INSERT INTO ${locks} (name, token, owner, expires_at)
           VALUES ($1, nextval('${tokens}'), $2, now() + $3 * interval '1 millisecond')
         ON CONFLICT (name) DO UPDATE SET token = excluded.token, owner = excluded.owner, expires_at = excluded.expires_at
           WHERE ${locks}.expires_at <= now()
         RETURNING token`,
        [name, this.#writer, ttl],
        `lock ${name}`,
      );
      if (rows[0]) {
        const held = new PgLock(this, name, Number(rows[0].token), ttl, options);
        // Everything committed before the lock was taken (the previous holder's writes) is read now,
        // so the holder decides on the latest tree.
        await this.#serial(() => this.#catchUp());
        return held;
      }
      if (Date.now() >= deadline) throw new MountError("EBUSY", `lock ${name} is held by another process`);
      await sleep(Math.min(20 + Math.random() * 60, Math.max(1, deadline - Date.now())));
    }
  }

  async renew(name: string, token: number, ttl: number): Promise<boolean> {
    const rows = await this.#query(
      `UPDATE ${this.#t.locks} SET expires_at = now() + $3 * interval '1 millisecond'
       WHERE name = $1 AND token = $2 AND expires_at > now() RETURNING 1`,
      [name, token, ttl],
      `renew lock ${name}`,
    );
    return rows.length > 0;
  }

  async unlock(name: string, token: number): Promise<void> {
    await this.#query(
      `UPDATE ${this.#t.locks} SET expires_at = now(), owner = NULL WHERE name = $1 AND token = $2`,
      [name, token],
      `release lock ${name}`,
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#poll) clearInterval(this.#poll);
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.#queue;
    await this.#pool.end().catch(() => undefined);
  }
}
