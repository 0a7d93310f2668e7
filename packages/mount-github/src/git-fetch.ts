import { MountError } from "@ws/core";
import { concatBytes } from "@ws/provider-kit";
import type { HttpClient, HttpRequest, HttpResponse } from "./git-transport.js";
import type { BodyReceiver } from "./socket-exchange.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const AGENT = "ws-mounts";

/** A ref as the server advertises it. */
export interface RemoteRef {
  /** Full name (`refs/heads/main`), or `HEAD`. */
  readonly ref: string;
  /** The commit it points at (an annotated tag peeled). */
  readonly oid: string;
  /** For `HEAD`: the branch it points at. */
  readonly target?: string | undefined;
}

/** What the first request learnt about the server. */
interface Advertisement {
  readonly version: 0 | 2;
  readonly capabilities: ReadonlySet<string>;
  /** Protocol v0 only: every ref, with `^{}` peeled tags folded in. */
  readonly refs: ReadonlyMap<string, RemoteRef>;
}

/**
 * An HTTP status as `classifyGitError` reads it (the shape isomorphic-git's HttpError had):
 * 404 → ENOENT, 401/403 → EACCES, other statuses by the kit's table.
 */
function httpError(status: number, url: string): Error {
  return Object.assign(new Error(`HTTP ${status} from ${url}`), {
    code: "HttpError",
    data: { statusCode: status },
  });
}

function protocolError(url: string, reason: string): MountError {
  return new MountError(
    "EIO",
    `the git server at ${url} answered something this client cannot read (${reason})`,
    {
      path: "",
      transient: true,
    },
  );
}

function pkt(line: string): Uint8Array {
  const body = encoder.encode(line);
  const out = new Uint8Array(body.length + 4);
  out.set(encoder.encode((body.length + 4).toString(16).padStart(4, "0")));
  out.set(body, 4);
  return out;
}
const FLUSH = encoder.encode("0000");
const EMPTY = new Uint8Array(0);
const DELIM = encoder.encode("0001");

/** Reads exactly-sized pieces from a stream of chunks (views when a piece sits in one chunk). */
class ChunkReader {
  readonly #it: AsyncIterator<Uint8Array>;
  #buf: Uint8Array = EMPTY;
  #off = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  /**
   * `n` bytes, or `undefined` at a clean end of the stream (no byte of the piece read). A view
   * of the chunk when the piece sits in one; otherwise the piece alone is copied out (never the
   * chunks it straddles, which were a copy of the pack's size over a clone).
   */
  async read(n: number, url: string): Promise<Uint8Array | undefined> {
    const have = this.#buf.length - this.#off;
    if (have >= n) {
      const out = this.#buf.subarray(this.#off, this.#off + n);
      this.#off += n;
      return out;
    }
    let out: Uint8Array | undefined;
    let filled = 0;
    if (have > 0) {
      out = new Uint8Array(n);
      out.set(this.#buf.subarray(this.#off));
      filled = have;
    }
    this.#buf = EMPTY;
    this.#off = 0;
    while (filled < n) {
      const { done, value } = await this.#it.next();
      if (done) {
        if (filled === 0) return undefined;
        throw new MountError("EIO", `the git server at ${url} ended its answer part-way`, {
          path: "",
          transient: true,
        });
      }
      if (filled === 0 && value.length >= n) {
        // The whole piece in this chunk: a view, the rest kept for the next read.
        this.#buf = value;
        this.#off = n;
        return value.subarray(0, n);
      }
      out ??= new Uint8Array(n);
      const take = Math.min(n - filled, value.length);
      out.set(value.subarray(0, take), filled);
      filled += take;
      if (take < value.length) {
        this.#buf = value;
        this.#off = take;
      }
    }
    return out;
  }
}

type Packet = Uint8Array | "flush" | "delim" | "end";

/** One pkt-line (`undefined` at the end of the stream). */
async function readPacket(reader: ChunkReader, url: string): Promise<Packet | undefined> {
  const head = await reader.read(4, url);
  if (!head) return undefined;
  const length = Number.parseInt(decoder.decode(head), 16);
  if (!/^[0-9a-f]{4}$/i.test(decoder.decode(head)) || Number.isNaN(length)) {
    throw protocolError(url, `a pkt-line length ${JSON.stringify(decoder.decode(head))}`);
  }
  if (length === 0) return "flush";
  if (length === 1) return "delim";
  if (length === 2) return "end";
  if (length < 4) throw protocolError(url, `a pkt-line of length ${length}`);
  const data = await reader.read(length - 4, url);
  if (!data) throw protocolError(url, "a truncated pkt-line");
  return data;
}

function text(packet: Uint8Array): string {
  const s = decoder.decode(packet);
  return s.endsWith("\n") ? s.slice(0, -1) : s;
}

/**
 * A refusal from the server, shown as it is: `ERR <message>` before the pack (a want the server
 * does not have is `ENOENT`), or a fatal message on side-band 3 during it (`EIO`, worth a retry).
 */
function serverError(url: string, message: string, beforePack = false): MountError {
  const missing = beforePack && /not our ref|unknown ref/i.test(message);
  return new MountError(missing ? "ENOENT" : "EIO", `the git server at ${url} refused: ${message}`, {
    path: "",
    transient: !missing,
  });
}

async function check(response: HttpResponse, url: string): Promise<ChunkReader> {
  if (response.statusCode !== 200) throw httpError(response.statusCode, url);
  return new ChunkReader(response.body);
}

/**
 * A smart-HTTP git client that does the two things a shallow clone of one ref needs, and nothing
 * else: list refs and fetch one pack. Protocol v2 (`ls-refs`, `fetch`) when the server speaks it,
 * as GitHub and git's own http-backend do; protocol v0 otherwise.
 */
export class GitFetchClient {
  readonly #http: HttpClient;
  #url: string;
  readonly #display: string;
  #advertisement: Promise<Advertisement> | undefined;
  readonly #version: 0 | 2;
  /**
   * `url`: the repository's smart-HTTP URL; `display`: the same without credentials, for
   * messages; `version`: 2 asks for protocol v2 (and takes v0 when the server answers so), 0
   * never asks (for tests of the v0 path).
   */
  constructor(http: HttpClient, url: string, display: string, version: 0 | 2 = 2) {
    this.#http = http;
    this.#url = url.replace(/\/+$/, "");
    this.#display = display;
    this.#version = version;
  }

  #advertise(): Promise<Advertisement> {
    this.#advertisement ??= this.#discover();
    return this.#advertisement;
  }

  async #discover(): Promise<Advertisement> {
    const url = `${this.#url}/info/refs?service=git-upload-pack`;
    const request = {
      url,
      method: "GET",
      headers: { accept: "*/*", ...(this.#version === 2 ? { "git-protocol": "version=2" } : {}) },
    };
    let reader = await this.#small(request);
    if (!reader) {
      const response = await this.#http.request(request);
      reader = await check(response, this.#display);
      // As git does (http.followRedirects=initial): a redirect of the first request moves the
      // repository's base URL for the requests that follow (a renamed repository on GitHub).
      const suffix = "/info/refs?service=git-upload-pack";
      if (response.url !== url && response.url.endsWith(suffix))
        this.#url = response.url.slice(0, -suffix.length);
    }
    const lines: (string | "flush")[] = [];
    for (;;) {
      const p = await readPacket(reader, this.#display);
      if (p === undefined) break;
      if (p === "flush") lines.push("flush");
      else if (typeof p !== "string") lines.push(text(p));
    }
    let i = 0;
    if (typeof lines[0] === "string" && lines[0].startsWith("# service=")) {
      i = lines[1] === "flush" ? 2 : 1;
    }
    if (lines[i] === "version 2") {
      const capabilities = new Set<string>();
      for (i++; i < lines.length && lines[i] !== "flush"; i++) capabilities.add(lines[i] as string);
      return { version: 2, capabilities, refs: new Map() };
    }
    const refs = new Map<string, RemoteRef>();
    let capabilities = new Set<string>();
    const symrefs = new Map<string, string>();
    for (; i < lines.length && lines[i] !== "flush"; i++) {
      let line = lines[i] as string;
      const nul = line.indexOf("\0");
      if (nul >= 0) {
        capabilities = new Set(
          line
            .slice(nul + 1)
            .split(" ")
            .filter(Boolean),
        );
        for (const c of capabilities) {
          const m = /^symref=([^:]+):(.+)$/.exec(c);
          if (m?.[1] && m[2]) symrefs.set(m[1], m[2]);
        }
        line = line.slice(0, nul);
      }
      const m = /^([0-9a-f]{40}) (.+)$/.exec(line);
      if (!m?.[1] || !m[2])
        throw protocolError(this.#display, `a ref line ${JSON.stringify(line.slice(0, 80))}`);
      const [, oid, name] = m;
      if (name === "capabilities^{}") continue;
      if (name.endsWith("^{}")) {
        const tag = name.slice(0, -3);
        const known = refs.get(tag);
        refs.set(tag, { ref: tag, oid, ...(known?.target ? { target: known.target } : {}) });
      } else if (!refs.has(name) || !name.startsWith("refs/tags/")) {
        refs.set(name, { ref: name, oid, ...(symrefs.has(name) ? { target: symrefs.get(name) } : {}) });
      }
    }
    return { version: 0, capabilities, refs };
  }

  async #post(body: Uint8Array[], v2: boolean): Promise<ChunkReader> {
    const request = this.#uploadPack(body, v2);
    return (await this.#small(request)) ?? check(await this.#http.request(request), this.#display);
  }

  /** The POST to `git-upload-pack` that carries `body` (pkt-lines), in protocol v2 or v0. */
  #uploadPack(body: Uint8Array[], v2: boolean): HttpRequest {
    return {
      url: `${this.#url}/git-upload-pack`,
      method: "POST",
      headers: {
        "content-type": "application/x-git-upload-pack-request",
        accept: "application/x-git-upload-pack-result",
        ...(v2 ? { "git-protocol": "version=2" } : {}),
      },
      body: [concatBytes(body)],
    };
  }

  /**
   * A small answer (the ref advertisement, `ls-refs`) read whole by the socket path, or
   * `undefined` when that path leaves it to node:http (a redirect, a 401, an error status...).
   * On the usual path node:http then serves no request at all, and costs no memory.
   */
  async #small(request: HttpRequest): Promise<ChunkReader | undefined> {
    if (!this.#http.receive) return undefined;
    const whole = new WholeBody();
    if (!(await this.#http.receive(request, whole))) return undefined;
    const bytes = whole.bytes();
    return new ChunkReader(
      (async function* () {
        yield bytes;
      })(),
    );
  }

  /**
   * The ref a clone of `ref` follows: `refs/heads/<ref>`, else `refs/tags/<ref>` (peeled), or
   * `HEAD` and its branch when `ref` is undefined. `exact`: the full name to ask for (a refresh).
   */
  async resolve(ref: string | undefined, exact?: string): Promise<RemoteRef | undefined> {
    const names = exact ? [exact] : ref ? [`refs/heads/${ref}`, `refs/tags/${ref}`] : ["HEAD"];
    const ad = await this.#advertise();
    if (ad.version === 0) {
      for (const name of names) {
        const hit = ad.refs.get(name);
        if (hit) return hit;
      }
      return undefined;
    }
    const body = [pkt("command=ls-refs\n"), pkt(`agent=${AGENT}\n`), DELIM, pkt("peel\n"), pkt("symrefs\n")];
    for (const name of names) body.push(pkt(`ref-prefix ${name}\n`));
    body.push(FLUSH);
    const reader = await this.#post(body, true);
    const found = new Map<string, RemoteRef>();
    for (;;) {
      const p = await readPacket(reader, this.#display);
      if (p === undefined || p === "flush") break;
      if (typeof p === "string") continue;
      const line = text(p);
      if (line.startsWith("ERR ")) throw serverError(this.#display, line.slice(4), true);
      const [oid = "", name = "", ...attributes] = line.split(" ");
      let peeled: string | undefined;
      let target: string | undefined;
      for (const a of attributes) {
        if (a.startsWith("peeled:")) peeled = a.slice(7);
        else if (a.startsWith("symref-target:")) target = a.slice(14);
      }
      if (!/^[0-9a-f]{40}$/.test(oid)) continue; // unborn HEAD
      found.set(name, { ref: name, oid: peeled ?? oid, ...(target ? { target } : {}) });
    }
    for (const name of names) {
      const hit = found.get(name);
      if (hit) return hit;
    }
    return undefined;
  }

  /**
   * Fetches the pack of one commit (`depth` commits of history, no tags, no thin pack) and returns
   * it whole. The HTTP client enforces the byte cap and the idle timeout while it arrives.
   */
  async fetchPack(oid: string, depth: number, maxBytes: number): Promise<Uint8Array> {
    const ad = await this.#advertise();
    const sink = new PackSink(maxBytes);
    let body: Uint8Array[];
    if (ad.version === 2) {
      const fetchCaps = [...ad.capabilities].find((c) => c.startsWith("fetch"))?.split(/[= ]/) ?? [];
      body = [pkt("command=fetch\n"), pkt(`agent=${AGENT}\n`), DELIM, pkt(`want ${oid}\n`)];
      if (fetchCaps.includes("shallow")) body.push(pkt(`deepen ${depth}\n`));
      body.push(pkt("ofs-delta\n"), pkt("no-progress\n"), pkt("done\n"), FLUSH);
    } else {
      if (!ad.capabilities.has("side-band-64k")) {
        throw protocolError(this.#display, "protocol v0 without side-band-64k");
      }
      const caps = ["side-band-64k", "ofs-delta", "shallow", "no-progress"].filter((c) =>
        ad.capabilities.has(c),
      );
      body = [pkt(`want ${oid} ${[...caps, `agent=${AGENT}`].join(" ")}\n`)];
      if (ad.capabilities.has("shallow")) body.push(pkt(`deepen ${depth}\n`));
      body.push(FLUSH, pkt("done\n"));
    }
    const request = this.#uploadPack(body, ad.version === 2);
    const receiver = new PackReceiver(sink, ad.version, this.#display);
    // The socket reads the answer straight into the pack (no buffer per read); an answer it does
    // not take (a redirect, a 401, an error status) comes through Node's HTTP client instead.
    if (!(await this.#http.receive?.(request, receiver))) {
      const response = await this.#http.request(request);
      if (response.statusCode !== 200) throw httpError(response.statusCode, this.#display);
      for await (const chunk of response.body) {
        for (let at = 0; at < chunk.length && !receiver.done; ) {
          const room = receiver.space();
          const n = Math.min(room.length, chunk.length - at);
          room.set(chunk.subarray(at, at + n));
          receiver.received(n);
          at += n;
        }
        if (receiver.done) break;
      }
      receiver.end();
    }
    return sink.finish();
  }
}

/** A receiver that keeps a whole (small) body in one growing buffer. */
class WholeBody implements BodyReceiver {
  #buffer = new Uint8Array(16 * 1024);
  #length = 0;
  readonly done = false;

  space(): Uint8Array {
    if (this.#buffer.length - this.#length < 4096) {
      const grown = new Uint8Array(this.#buffer.length * 2);
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    return this.#buffer.subarray(this.#length);
  }

  received(count: number): void {
    this.#length += count;
  }

  end(): void {}

  bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }
}

// States of the pack answer's pkt-line stream (see PackReceiver).
const PKT_LENGTH = 0;
const PKT_LINE = 1;
const PKT_BAND = 2;
const PKT_DATA = 3;
const PKT_SKIP = 4;
const PKT_FATAL = 5;
const PKT_DONE = 6;

/**
 * Decodes the answer to a fetch, in place: the lines before the pack (v2's sections up to
 * `packfile`, v0's shallow lines and NAK), then the side-band, whose band 1 (pack data) is kept
 * in the sink by moving it down over the pkt-line headers in the same buffer it was read into.
 * Band 2 (progress) is dropped, band 3 (a fatal error) is the server's refusal. A flush ends the pack.
 */
export class PackReceiver {
  readonly #sink: PackSink;
  readonly #version: 0 | 2;
  readonly #url: string;
  #state = PKT_LENGTH;
  #inPack = false;
  #length = 0;
  #digits = 0;
  #left = 0;
  #room: Uint8Array = EMPTY;
  /** The text of a line before the pack (or of a band-3 message). */
  readonly #line = new Uint8Array(65520);
  #lineLength = 0;

  constructor(sink: PackSink, version: 0 | 2, url: string) {
    this.#sink = sink;
    this.#version = version;
    this.#url = url;
  }

  get done(): boolean {
    return this.#state === PKT_DONE;
  }

  space(): Uint8Array {
    this.#room = this.#sink.space();
    return this.#room;
  }

  /** The first `count` bytes of the last `space()` arrived. */
  received(count: number): void {
    const room = this.#room;
    let i = 0;
    while (i < count) {
      const state = this.#state;
      if (state === PKT_DATA || state === PKT_SKIP || state === PKT_LINE || state === PKT_FATAL) {
        const take = Math.min(this.#left, count - i);
        if (state === PKT_DATA) this.#sink.keep(room, i, take, this.#url);
        else if (state !== PKT_SKIP) {
          this.#line.set(room.subarray(i, i + take), this.#lineLength);
          this.#lineLength += take;
        }
        i += take;
        this.#left -= take;
        if (this.#left === 0) {
          this.#state = PKT_LENGTH;
          if (state === PKT_LINE) this.#onLine();
          else if (state === PKT_FATAL) throw serverError(this.#url, this.#text());
        }
      } else if (state === PKT_LENGTH) {
        const c = room[i++] as number;
        const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
        if (digit < 0) throw protocolError(this.#url, "a pkt-line length that is not hex");
        this.#length = this.#length * 16 + digit;
        if (++this.#digits === 4) this.#onLength();
      } else if (state === PKT_BAND) {
        const band = room[i++] as number;
        this.#left--;
        this.#lineLength = 0;
        if (band === 1) this.#state = PKT_DATA;
        else if (band === 2) this.#state = PKT_SKIP;
        else if (band === 3) this.#state = PKT_FATAL;
        else throw protocolError(this.#url, `side-band ${band}`);
        if (this.#left === 0) {
          this.#state = PKT_LENGTH;
          if (band === 3) throw serverError(this.#url, "");
        }
      } else i = count; // done: the rest is not the pack
    }
  }

  #onLength(): void {
    const length = this.#length;
    this.#length = 0;
    this.#digits = 0;
    if (this.#inPack) {
      // A flush (or v2's response-end) ends the pack.
      if (length === 0 || length === 2) this.#state = PKT_DONE;
      else if (length < 5) throw protocolError(this.#url, `a side-band pkt-line of length ${length}`);
      else {
        this.#left = length - 4;
        this.#state = PKT_BAND;
      }
      return;
    }
    if (length === 0 && this.#version === 2) throw protocolError(this.#url, "no packfile section");
    if (length < 4) return; // flush, delim, response-end: between sections
    if (length - 4 > this.#line.length) throw protocolError(this.#url, `a pkt-line of length ${length}`);
    this.#left = length - 4;
    this.#lineLength = 0;
    this.#state = PKT_LINE;
    if (this.#left === 0) {
      this.#state = PKT_LENGTH;
      this.#onLine();
    }
  }

  #text(): string {
    const s = decoder.decode(this.#line.subarray(0, this.#lineLength));
    return s.endsWith("\n") ? s.slice(0, -1) : s;
  }

  /** A line before the pack: v2's sections until `packfile`, v0's until NAK (or ACK). */
  #onLine(): void {
    const line = this.#text();
    if (line.startsWith("ERR ")) throw serverError(this.#url, line.slice(4), true);
    if (this.#version === 2 ? line === "packfile" : line === "NAK" || line.startsWith("ACK ")) {
      this.#inPack = true;
    }
  }

  /** The answer ended: it must have ended the pack. */
  end(): void {
    if (this.#state === PKT_DONE) return;
    if (!this.#inPack)
      throw protocolError(this.#url, this.#version === 2 ? "no packfile section" : "no pack");
    throw new MountError("EIO", `the git server at ${this.#url} ended the pack part-way`, {
      path: "",
      transient: true,
    });
  }
}

/**
 * Where the pack's bytes go as they arrive: one resizable ArrayBuffer that reserves `maxBytes`
 * of address space and commits memory only as it grows, so the pack is held once, with no
 * doubling buffer or chunk list to copy it out of (those cost one to four times the pack again
 * on top of it, measured). When the runtime cannot reserve it, chunks of 1 MiB joined at the end.
 */
export class PackSink {
  readonly #resizable: ResizableArrayBuffer | undefined;
  readonly #maxBytes: number;
  #view: Uint8Array = EMPTY;
  #length = 0;
  readonly #blocks: Uint8Array[] = [];
  #scratch: Uint8Array | undefined;

  /** `resizable: false` takes the fallback (for its tests). */
  constructor(maxBytes: number, options: { resizable?: boolean } = {}) {
    this.#maxBytes = maxBytes;
    if (options.resizable === false) {
      this.#resizable = undefined;
      return;
    }
    try {
      // Room for one read past the cap: the bytes over it are refused once they arrive.
      const buffer = new (ArrayBuffer as unknown as ResizableArrayBufferConstructor)(0, {
        maxByteLength: maxBytes + SCRATCH,
      });
      this.#resizable = buffer.resizable ? buffer : undefined;
    } catch {
      this.#resizable = undefined;
    }
  }

  /**
   * Room for the next bytes read: the buffer right after the pack's bytes (bytes kept from it
   * stay where they are or move down, never copied elsewhere), or, in blocks, a reused scratch.
   */
  space(): Uint8Array {
    const buffer = this.#resizable;
    if (!buffer) {
      this.#scratch ??= new Uint8Array(SCRATCH);
      return this.#scratch;
    }
    const limit = this.#maxBytes + SCRATCH;
    if (buffer.byteLength - this.#length < SCRATCH && buffer.byteLength < limit) {
      buffer.resize(Math.min(limit, Math.max(this.#length + SCRATCH, buffer.byteLength + BLOCK)));
      this.#view = new Uint8Array(buffer);
    }
    return new Uint8Array(buffer, this.#length, buffer.byteLength - this.#length);
  }

  /** Keeps `room[start..start+count)` (`room` from `space()`) as the next bytes of the pack. */
  keep(room: Uint8Array, start: number, count: number, url: string): void {
    if (this.#resizable && room.buffer === this.#resizable) {
      const end = this.#length + count;
      if (end > this.#maxBytes) this.#quota(url);
      const from = room.byteOffset + start;
      if (from !== this.#length) this.#view.copyWithin(this.#length, from, from + count);
      this.#length = end;
      return;
    }
    this.append(room.subarray(start, start + count), url);
  }

  #quota(url: string): never {
    throw new MountError("EDQUOT", `the pack from ${url} exceeds maxPackBytes (${this.#maxBytes} bytes)`);
  }

  append(piece: Uint8Array, url: string): void {
    const end = this.#length + piece.length;
    if (end > this.#maxBytes) this.#quota(url);
    const buffer = this.#resizable;
    if (buffer) {
      if (end > buffer.byteLength) {
        buffer.resize(Math.min(this.#maxBytes, Math.max(end, buffer.byteLength + BLOCK)));
        this.#view = new Uint8Array(buffer);
      }
      this.#view.set(piece, this.#length);
    } else {
      for (let at = 0; at < piece.length; ) {
        const pos = this.#length + at;
        const index = Math.floor(pos / BLOCK);
        const block = this.#blocks[index] ?? new Uint8Array(BLOCK);
        this.#blocks[index] = block;
        const take = Math.min(BLOCK - (pos % BLOCK), piece.length - at);
        block.set(piece.subarray(at, at + take), pos % BLOCK);
        at += take;
      }
    }
    this.#length = end;
  }

  /** The pack, exactly its length. */
  finish(): Uint8Array {
    const buffer = this.#resizable;
    if (buffer) {
      buffer.resize(this.#length);
      return new Uint8Array(buffer, 0, this.#length);
    }
    const out = new Uint8Array(this.#length);
    this.#blocks.forEach((block, i) => {
      out.set(block.subarray(0, Math.min(BLOCK, this.#length - i * BLOCK)), i * BLOCK);
    });
    this.#blocks.length = 0;
    return out;
  }
}

const BLOCK = 1024 * 1024;
/** The least room offered to one read of the socket. */
const SCRATCH = 64 * 1024;

/** ES2024's resizable ArrayBuffer (Node 20 has it; the project's TypeScript lib predates it). */
interface ResizableArrayBuffer extends ArrayBuffer {
  readonly resizable: boolean;
  resize(length: number): void;
}
type ResizableArrayBufferConstructor = new (
  length: number,
  options: { maxByteLength: number },
) => ResizableArrayBuffer;
