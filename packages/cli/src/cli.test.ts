import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWs, ws } from "../test/run-ws.js";

// The built `ws` binary as a child process: stdin, stdout and stderr are pipes, never a terminal.

let dir: string;
const binary = randomBytes(70_000);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ws-cli-"));
  mkdirSync(join(dir, "data/sub"), { recursive: true });
  mkdirSync(join(dir, "out"));
  writeFileSync(join(dir, "data/config.json"), '{"answer":42}\n');
  writeFileSync(join(dir, "data/sub/blob.bin"), binary);
  writeFileSync(join(dir, "data/run.sh"), "#!/bin/sh\necho run\n", { mode: 0o755 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function ndjson(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("ws ls / cat / cp / prefetch", () => {
  it("ls prints one path per line on stdout, -l with modes, --json as NDJSON", async () => {
    const plain = await ws(["ls", "./data"], { cwd: dir });
    expect(plain.code).toBe(0);
    expect(plain.stdout.toString()).toBe("config.json\nrun.sh\nsub/blob.bin\n");
    const long = await ws(["ls", "-l", "./data", "sub"], { cwd: dir });
    expect(long.stdout.toString()).toMatch(/^0644 +70000 \S+ sub\/blob\.bin\n$/);
    const json = ndjson((await ws(["ls", "--json", "./data"], { cwd: dir })).stdout.toString());
    expect(json.map((e) => e["path"])).toEqual(["config.json", "run.sh", "sub/blob.bin"]);
    expect(json[1]).toMatchObject({ path: "run.sh", size: 19, mode: 0o755 });
  });

  it("cat writes the exact bytes to stdout and nothing else", async () => {
    const r = await ws(["cat", "./data", "sub/blob.bin", "config.json"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(Buffer.compare(r.stdout, Buffer.concat([binary, Buffer.from('{"answer":42}\n')]))).toBe(0);
    expect(r.stderr).toBe("");
  });

  it("cat of a missing file exits 1 with one line naming it", async () => {
    const r = await ws(["cat", "./data", "nope.txt"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/nope\.txt/);
  });

  it("cp copies a tree with its modes, prints one summary line, and no progress when stderr is not a terminal", async () => {
    const r = await ws(["cp", "./data", "./copy"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, "copy/sub/blob.bin")), binary)).toBe(0);
    expect(statSync(join(dir, "copy/run.sh")).mode & 0o777).toBe(0o755);
    expect(r.stderr).toMatch(/^ws: copied 3 files, 70\.0 kB from \.\/data to \.\/copy in [\d.]+s\n$/);
    expect(r.stderr).not.toMatch(/[\r\x1b]/);
    expect(r.stdout.length).toBe(0);
  });

  it("cp --dry-run writes nothing", async () => {
    const r = await ws(["cp", "--dry-run", "./data", "./never"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\[dry-run\] would copy 3 files/);
    expect(existsSync(join(dir, "never"))).toBe(false);
  });

  it("prefetch reads everything and reports", async () => {
    const r = await ws(["prefetch", "--json", "./data"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(ndjson(r.stderr)).toEqual([
      expect.objectContaining({ type: "prefetch", files: 3, bytes: 70_033 }),
    ]);
  });
});

describe("errors a person can act on: one line, exit 125, no stack unless -v", () => {
  it.each([
    [
      ["run", "-m", "./missing:/data", "--", "true"],
      /^ws: error: SRC \.\/missing does not exist \(.*missing\); create it or fix the path\n$/,
    ],
    [
      ["run", "-m", "gs://bucket:/data", "--", "true"],
      /^ws: error: unknown scheme "gs:" in gs:\/\/bucket; installed: artifact .*fs .*s3 .*\n$/,
    ],
    [
      ["run", "-m", "./data:data", "--", "true"],
      /^ws: error: DEST "data" in --mount \.\/data:data is not absolute; write it as \/data\n$/,
    ],
    [
      ["run", "-m", "./data:/data", "-m", "./out:/data/out", "--", "true"],
      /^ws: error: nested DESTs: \/data and \/data\/out; .*\n$/,
    ],
    [
      ["run", "-m", "./data:/data", "-m", "./out:/data", "--", "true"],
      /^ws: error: two mounts have the DEST \/data; .*\n$/,
    ],
    [["run", "--", "true"], /^ws: error: ws run needs at least one --mount/],
    [
      ["run", "-m", "type=fs,src=./data,dst=/d,colour=red", "--", "true"],
      /^ws: error: unknown option colour for type=fs .*known: readonly, ignore, max-bytes, max-entries, uid, gid, file-mode\n$/,
    ],
  ])("%j", async (args, message) => {
    const r = await ws(args, { cwd: dir });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(message);
    expect(r.stdout.length).toBe(0);
  });

  it("an unreachable S3 endpoint is one line, before the command runs", async () => {
    // Nothing listens on this port: the SDK's error becomes one line.
    const r = await ws(
      ["run", "-m", "type=s3,src=s3://bucket/p,dst=/data,endpoint=http://127.0.0.1:9", "--", "true"],
      {
        cwd: dir,
        env: { AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "y", AWS_MAX_ATTEMPTS: "1" },
      },
    );
    expect(r.code).toBe(125);
    expect(
      r.stderr
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("ws: error")),
    ).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("-v adds the stack trace", async () => {
    const r = await ws(["run", "-v", "-m", "./missing:/data", "--", "true"], { cwd: dir });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it("an unknown flag is a usage error (125)", async () => {
    const r = await ws(["ls", "--colour", "./data"], { cwd: dir });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/unknown option '--colour'/);
  });
});

describe("providers", () => {
  it("--help lists the installed providers and the exit codes", async () => {
    const r = await ws(["--help"]);
    expect(r.code).toBe(0);
    const help = r.stdout.toString();
    expect(help).toMatch(/fs +\.\/dir, \/abs/);
    expect(help).toMatch(/s3 +s3:\/\/bucket\/prefix/);
    expect(help).toMatch(/75 +ws run: the command ran, but some changes could not be written back/);
  });

  it("a third-party package adds its own scheme through a descriptor", async () => {
    const module = join(dir, "echo-provider.mjs");
    writeFileSync(
      module,
      `export const wsProvider = {
  kind: "echo", description: "files named in the URL", schemes: ["echo"], example: "echo://a,b",
  options: [{ name: "suffix", description: "appended to every file" }],
  create: ({ source, options }) => {
    const names = source.slice("echo://".length).split(",");
    return {
      kind: "echo", writable: false,
      list: async () => names.map((n) => ({ path: n, size: n.length + String(options.suffix ?? "").length })),
      fetch: async (p) => new TextEncoder().encode(p + (options.suffix ?? "")),
    };
  },
};\n`,
    );
    const list = await ws(["ls", "--provider", module, "echo://a,b"], { cwd: dir });
    expect(list.stdout.toString()).toBe("a\nb\n");
    const cat = await ws(["cat", "type=echo,src=echo://hello,suffix=!", "hello"], {
      cwd: dir,
      env: { WS_PROVIDERS: module },
    });
    expect(cat.stdout.toString()).toBe("hello!");
    const help = await ws(["providers", "--provider", module]);
    expect(help.stdout.toString()).toMatch(/echo +echo:\/\/a,b +files named in the URL\n +suffix +appended/);
  });
});

/** Only ws's own lines (the command may print to stderr too). */
function wsEvents(stderr: string): Array<Record<string, unknown>> {
  return ndjson(
    stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .join("\n"),
  );
}

describe("ws run", () => {
  it("leaves stdout to the command: binary bytes through untouched, stdin passed in", async () => {
    const r = await ws(["run", "-q", "-m", "./data:/data", "--", "cat", "/data/sub/blob.bin"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(Buffer.compare(r.stdout, binary)).toBe(0);
    expect(r.stderr).toBe("");
    const echo = await ws(["run", "-q", "-m", "./data:/data", "--", "cat"], {
      cwd: dir,
      input: "from stdin\n",
    });
    expect(echo.stdout.toString()).toBe("from stdin\n");
  });

  it("exits with the command's code, 127 for a missing command", async () => {
    expect(
      (await ws(["run", "-q", "-m", "./data:/data", "--", "sh", "-c", "exit 3"], { cwd: dir })).code,
    ).toBe(3);
    const none = await ws(["run", "-q", "--sandbox", "none", "-m", "./data:/data", "--", "no-such-cmd-ws"], {
      cwd: dir,
    });
    expect(none.code).toBe(127);
    expect(none.stderr).toBe("ws: error: command not found: no-such-cmd-ws\n");
  });

  it("prints every mount's effective mode at start, a one-line summary at the end, and no progress off a terminal", async () => {
    const r = await ws(
      ["run", "--sandbox", "none", "-m", "./data:/data", "-m", "./out:/out:rw", "--", "true"],
      {
        cwd: dir,
      },
    );
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split("\n");
    expect(lines[0]).toBe("ws: /data <- ./data (fs, read-only)");
    expect(lines[1]).toBe("ws: /out <- ./out (fs, read-write)");
    expect(lines.at(-1)).toMatch(
      /^ws: 2 mounts, 70\.\d kB fetched, 0 files written back, 0 writes refused under read-only mounts, exit 0, [\d.]+s$/,
    );
    expect(r.stderr).not.toMatch(/[\r\x1b]/);
    // Under bwrap, host directories are bound in place: nothing to fetch or write back.
    const bound = await ws(["run", "--sandbox", "bwrap", "-m", "./data:/data", "--", "true"], { cwd: dir });
    expect(bound.stderr.trim().split("\n").at(-1)).toMatch(
      /^ws: 1 mount, bound in place \(nothing fetched\), exit 0, [\d.]+s$/,
    );
  });

  it("--json streams NDJSON events on stderr, stdout untouched", async () => {
    const r = await ws(
      [
        "run",
        "--json",
        "-m",
        "./data:/data",
        "-m",
        "./out:/out:rw",
        "--",
        "sh",
        "-c",
        "echo out; echo x > /out/j.txt",
      ],
      {
        cwd: dir,
      },
    );
    expect(r.stdout.toString()).toBe("out\n");
    const events = wsEvents(r.stderr);
    for (const e of events) {
      expect(typeof e["type"]).toBe("string");
      expect(typeof e["ms"]).toBe("number");
    }
    expect(events.map((e) => e["type"])).toEqual(expect.arrayContaining(["mount", "sandbox", "summary"]));
    expect(events.at(-1)).toMatchObject({
      type: "summary",
      mounts: 2,
      inPlace: true,
      writesRefused: 0,
      writeBackFailures: 0,
      commandExitCode: 0,
      exitCode: 0,
      sandbox: "bwrap",
    });
    expect(readFileSync(join(dir, "out/j.txt"), "utf8")).toBe("x\n");
  });

  it("--dry-run marks every action and runs nothing", async () => {
    const r = await ws(
      ["run", "--dry-run", "-m", "./data:/data", "-m", "./out:/out:rw", "--", "touch", "/out/dry"],
      {
        cwd: dir,
      },
    );
    expect(r.code).toBe(0);
    for (const line of r.stderr.trim().split("\n")) expect(line).toMatch(/^ws: \[dry-run\] /);
    expect(existsSync(join(dir, "out/dry"))).toBe(false);
  });

  it("exits 75 when a change cannot be written back, with the command's own code in the summary", async () => {
    const r = await ws(
      [
        "run",
        "--json",
        "-m",
        "type=fs,src=./out,dst=/out,rw,max-bytes=10",
        "--",
        "sh",
        "-c",
        "head -c 100 /dev/zero > /out/big.bin",
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(75);
    expect(wsEvents(r.stderr).at(-1)).toMatchObject({ type: "summary", commandExitCode: 0, exitCode: 75 });
    expect(existsSync(join(dir, "out/big.bin"))).toBe(false);
  });

  it.each([
    ["SIGTERM", "bwrap"],
    ["SIGTERM", "none"],
    ["SIGINT", "bwrap"],
    ["SIGINT", "none"],
  ] as const)(
    "forwards %s to the command (sandbox %s); its last writes still land",
    async (signal, sandbox) => {
      const name = `cleanup-${signal}-${sandbox}.txt`;
      const script = `trap 'echo cleaned > out/${name}; exit 7' ${signal.slice(3)}; echo ready; while :; do sleep 0.05; done`;
      const run = startWs(
        ["run", "-q", "--sandbox", sandbox, "-m", "./out:/out:rw", "-w", "/", "--", "sh", "-c", script],
        {
          cwd: dir,
        },
      );
      await new Promise<void>((resolve) => {
        run.child.stdout!.on("data", (c: Buffer) => {
          if (c.toString().includes("ready")) resolve();
        });
      });
      run.child.kill(signal);
      const r = await run.done;
      expect(r.code).toBe(7);
      expect(readFileSync(join(dir, "out", name), "utf8")).toBe("cleaned\n");
    },
  );
});

describe("seed 001's examples through ws", () => {
  let seed: string;
  beforeAll(() => {
    seed = join(dir, "seed");
    mkdirSync(join(seed, "code"), { recursive: true });
    mkdirSync(join(seed, "data"));
    mkdirSync(join(seed, "machine-output"));
    writeFileSync(join(seed, "code/script.py"), "print('hello from the host')\n");
    writeFileSync(join(seed, "data/config.json"), '{"threshold": 3}\n');
  });

  describe("with the sandbox", () => {
    it("basic mount: cat /workspace/script.py", async () => {
      const r = await ws(
        ["run", "-q", "--sandbox", "bwrap", "-m", "./code:/workspace", "--", "cat", "/workspace/script.py"],
        {
          cwd: seed,
        },
      );
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe("print('hello from the host')\n");
    });

    it("read-only mount: reading works, touch /data/newfile fails with a non-zero exit", async () => {
      const read = await ws(
        ["run", "-q", "--sandbox", "bwrap", "-m", "./data:/data:ro", "--", "cat", "/data/config.json"],
        {
          cwd: seed,
        },
      );
      expect(read.stdout.toString()).toBe('{"threshold": 3}\n');
      const write = await ws(
        ["run", "-q", "--sandbox", "bwrap", "-m", "./data:/data:ro", "--", "touch", "/data/newfile"],
        {
          cwd: seed,
        },
      );
      expect(write.code).not.toBe(0);
      expect(write.stderr).toMatch(/Read-only file system/);
      expect(existsSync(join(seed, "data/newfile"))).toBe(false);
    });

    it("multiple mounts, and writing results back to the host", async () => {
      const r = await ws(
        [
          "run",
          "-q",
          "--sandbox",
          "bwrap",
          "-m",
          "./code:/workspace:rw",
          "-m",
          "./data:/data:ro",
          "-m",
          "./machine-output:/output:rw",
          "--",
          "sh",
          "-c",
          "ls /workspace /data && echo '{\"answer\": 42}' > /output/result.json",
        ],
        { cwd: seed },
      );
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe("/data:\nconfig.json\n\n/workspace:\nscript.py\n");
      expect(readFileSync(join(seed, "machine-output/result.json"), "utf8")).toBe('{"answer": 42}\n');
    });
  });

  describe("without the sandbox (paths relative to the workspace root)", () => {
    it("reads work; a write under a read-only mount is dropped and reported, never reaching the host", async () => {
      const r = await ws(
        [
          "run",
          "--json",
          "--sandbox",
          "none",
          "-m",
          "./data:/data:ro",
          "-m",
          "./machine-output:/output:rw",
          "-w",
          "/",
          "--",
          "sh",
          "-c",
          "cat data/config.json; touch data/newfile; echo 42 > output/plain.txt",
        ],
        { cwd: seed },
      );
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe('{"threshold": 3}\n');
      expect(wsEvents(r.stderr).at(-1)).toMatchObject({
        type: "summary",
        writesRefused: 1,
        filesWrittenBack: 1,
        sandbox: "none",
      });
      expect(existsSync(join(seed, "data/newfile"))).toBe(false);
      expect(readFileSync(join(seed, "machine-output/plain.txt"), "utf8")).toBe("42\n");
    });
  });
});

describe("bundles (artifact provider)", () => {
  it("lists, reads and runs over a tar.gz as a read-only mount", async () => {
    execFileSync("tar", ["-czf", join(dir, "bundle.tar.gz"), "-C", join(dir, "data"), "config.json", "sub"]);
    expect((await ws(["ls", "./bundle.tar.gz"], { cwd: dir })).stdout.toString()).toBe(
      "config.json\nsub/blob.bin\n",
    );
    const r = await ws(["run", "-q", "-m", "./bundle.tar.gz:/b", "--", "cat", "/b/config.json"], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('{"answer":42}\n');
  });
});

describe("the main job (npm run demo)", () => {
  it.each(["auto", "none"])(
    "runs over examples/main-job and lands the report on the host (sandbox %s)",
    async (sandbox) => {
      const job = join(dir, `main-job-${sandbox}`);
      cpSync(fileURLToPath(new URL("../../../examples/main-job", import.meta.url)), job, { recursive: true });
      rmSync(join(job, "output/report.md"), { force: true });
      // The same arguments as the root package.json's demo script.
      const r = await ws(
        [
          "run",
          "--sandbox",
          sandbox,
          "--mount",
          "./input:/input",
          "--mount",
          "./output:/output:rw",
          "--workdir",
          "/",
          "--",
          "sh",
          "input/job.sh",
        ],
        { cwd: job },
      );
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toBe("job: wrote output/report.md\n");
      expect(readFileSync(join(job, "output/report.md"), "utf8")).toMatch(
        /- east: 315\n- north: 225\n- south: 175\n/,
      );
      expect(existsSync(join(job, "input/should-not-exist"))).toBe(false);
      expect(r.stderr).toMatch(
        sandbox === "none"
          ? /1 write refused under read-only mounts/
          : /input\/ is read-only, the write was refused/,
      );
    },
  );

  it("names a --workdir that does not exist", async () => {
    const r = await ws(
      ["run", "--sandbox", "bwrap", "-m", "./data:/data", "-w", "/data/nope", "--", "true"],
      { cwd: dir },
    );
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/ws: error: --workdir \/data\/nope does not exist \(.*data\/nope on the host\)/);
  });

  it("passes --env to the command", async () => {
    const r = await ws(
      [
        "run",
        "-q",
        "-e",
        "GREETING=hi there",
        "-m",
        "./data:/data",
        "--",
        "sh",
        "-c",
        'printf "%s" "$GREETING"',
      ],
      {
        cwd: dir,
      },
    );
    expect(r.stdout.toString()).toBe("hi there");
  });
});

describe("host directories keep what a file has beside its bytes (issue 17)", () => {
  it("ws run --sandbox none over a :rw folder: links (whatever their target), empty folders, modes and mtimes land on the host", async () => {
    const out = join(dir, "fidelity");
    mkdirSync(out);
    const r = await ws(
      [
        "run",
        "-q",
        "--sandbox",
        "none",
        "-m",
        `${out}:/out:rw`,
        "--",
        "sh",
        "-c",
        "mkdir -p empty venv/bin && ln -s /usr/bin/python3 venv/bin/python && ln -s ../empty venv/up && printf k > key && chmod 600 key && touch -d '2021-02-03 04:05:06' key",
      ],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(readlinkSync(join(out, "venv/bin/python"))).toBe("/usr/bin/python3");
    expect(readlinkSync(join(out, "venv/up"))).toBe("../empty");
    expect(statSync(join(out, "empty")).isDirectory()).toBe(true);
    const key = statSync(join(out, "key"));
    expect(key.mode & 0o777).toBe(0o600);
    expect(key.mtime.toISOString()).toMatch(/^2021-02-03T/);
  });

  it("ws cp keeps empty folders, folder modes, links, modes and mtimes; ls shows an empty folder with a trailing /; cat follows links within SRC", async () => {
    const src = join(dir, "cp-src");
    mkdirSync(join(src, "empty/deeper"), { recursive: true });
    writeFileSync(join(src, "old.txt"), "old\n", { mode: 0o600 });
    utimesSync(join(src, "old.txt"), new Date("2021-02-03T04:05:06Z"), new Date("2021-02-03T04:05:06Z"));
    symlinkSync("old.txt", join(src, "alias"));
    symlinkSync("../old.txt", join(src, "empty/up"));
    symlinkSync("/etc/hostname", join(src, "leaves")); // read-only source: skipped, by name with -v
    mkdirSync(join(src, "sealed"), { mode: 0o700 });
    writeFileSync(join(src, "sealed/in.txt"), "in\n");
    const ls = await ws(["ls", "./cp-src"], { cwd: dir });
    expect(ls.stdout.toString()).toBe("alias\nempty/deeper/\nempty/up\nold.txt\nsealed/\nsealed/in.txt\n");
    const cat = await ws(["cat", "./cp-src", "empty/up", "alias"], { cwd: dir });
    expect(cat.stdout.toString()).toBe("old\nold\n");
    const out = await ws(["cat", "./cp-src", "leaves"], { cwd: dir });
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/leaves is a link to \/etc\/hostname, outside \.\/cp-src; not followed/);
    expect(out.stdout.length).toBe(0);
    const r = await ws(["cp", "./cp-src", "./cp-dest"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^ws: copied 4 files, /);
    expect(statSync(join(dir, "cp-dest/sealed")).mode & 0o777).toBe(0o700);
    expect(readlinkSync(join(dir, "cp-dest/alias"))).toBe("old.txt");
    expect(readlinkSync(join(dir, "cp-dest/empty/up"))).toBe("../old.txt");
    expect(existsSync(join(dir, "cp-dest/leaves"))).toBe(false);
    expect(statSync(join(dir, "cp-dest/empty/deeper")).isDirectory()).toBe(true);
    const old = statSync(join(dir, "cp-dest/old.txt"));
    expect(old.mode & 0o777).toBe(0o600);
    expect(old.mtime.toISOString()).toBe("2021-02-03T04:05:06.000Z");
  });
});
