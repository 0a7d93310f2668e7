import { createHash } from "node:crypto";
import type { Mount } from "@ws/core";
import { expect } from "vitest";
import { Workspace } from "../src/workspace.js";
import type { MountConflict } from "../src/workspace-options.js";

/**
 * Issue 18's agent scenarios over one read-write mount at `/m`, shared by the MemoryMount tests
 * (workspace) and the S3Bucket-on-moto tests (mount-s3). `fresh()` makes a new mount over the same
 * store each time, so a scenario can read back what landed through a new workspace.
 */
export type FreshMount = () => Mount;

/** The environment of a command that writes Python bytecode whatever the caller's shell says. */
function env(): Record<string, string | undefined> {
  return { ...process.env, PYTHONDONTWRITEBYTECODE: undefined, PYTHONPYCACHEPREFIX: undefined };
}

/** What the store holds at `rel`, read through a new workspace over a fresh mount. */
async function storedBytes(fresh: FreshMount, rel: string): Promise<Buffer> {
  const ws = new Workspace({ mounts: { "/m": fresh() } });
  try {
    return await ws.fs.readFile(`/m/${rel}`);
  } finally {
    await ws.close();
  }
}

async function storedText(fresh: FreshMount, rel: string): Promise<string> {
  return (await storedBytes(fresh, rel)).toString("utf8");
}

/** Two concurrent commands each increment a counter 5 times under `flock`: 10, as on one machine. */
export async function flockCounter(fresh: FreshMount): Promise<void> {
  const ws = new Workspace({ mounts: { "/m": fresh() } });
  await ws.fs.writeFile("/m/counter", "0\n");
  const loop =
    "for i in 1 2 3 4 5; do flock m/counter.lock sh -c 'n=$(cat m/counter); sleep 0.05; echo $((n+1)) > m/counter'; done";
  const [a, b] = await Promise.all([ws.exec("sh", ["-c", loop]), ws.exec("sh", ["-c", loop])]);
  expect([a.exitCode, a.stderr, b.exitCode, b.stderr]).toEqual([0, "", 0, ""]);
  expect(a.dir).toBe(b.dir);
  expect(await ws.fs.readFile("/m/counter", "utf8")).toBe("10\n");
  await ws.close();
  expect(await storedText(fresh, "counter")).toBe("10\n");
}

/**
 * A venv made by one command is used by `pip` in the next: its scripts name the directory it was
 * made in (`activate` puts `<dir>/bin` first on PATH), which must still be there. Made with
 * `--without-pip --system-site-packages` (fast, no network): `python -m pip` through the venv is
 * the system pip, and `sys.prefix` says whether the venv's python ran.
 */
export async function venvAcrossCommands(fresh: FreshMount): Promise<void> {
  const ws = new Workspace({ mounts: { "/m": fresh() } });
  const made = await ws.exec("python3", ["-m", "venv", "--without-pip", "--system-site-packages", "m/venv"], {
    env: env(),
  });
  expect([made.exitCode, made.stderr]).toEqual([0, ""]);
  expect(made.changes.errors).toEqual([]);
  const used = await ws.exec(
    "sh",
    [
      "-c",
      '. m/venv/bin/activate && python -m pip --version > /dev/null && python -c "import sys; print(sys.prefix)"',
    ],
    { env: env() },
  );
  expect(used.stderr).toBe("");
  expect(used.exitCode).toBe(0);
  expect(used.stdout).toBe(`${made.dir}/m/venv\n`);
  await ws.close();
}

/** A CMake build directory configured by one command is built by the next. */
export async function cmakeAcrossCommands(fresh: FreshMount): Promise<void> {
  const ws = new Workspace({ mounts: { "/m": fresh() } });
  await ws.fs.mkdir("/m/src", { recursive: true });
  await ws.fs.writeFile("/m/src/in.txt", "one\n");
  await ws.fs.writeFile(
    "/m/src/CMakeLists.txt",
    [
      "cmake_minimum_required(VERSION 3.10)",
      "project(demo NONE)",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CMake's own ${VAR} syntax, not a template.
      "add_custom_command(OUTPUT out.txt COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/in.txt out.txt DEPENDS ${CMAKE_SOURCE_DIR}/in.txt)",
      "add_custom_target(out ALL DEPENDS out.txt)",
      "",
    ].join("\n"),
  );
  const configure = await ws.exec("cmake", ["-S", "m/src", "-B", "m/build"]);
  expect([configure.exitCode, configure.stderr]).toEqual([0, ""]);
  const build = await ws.exec("cmake", ["--build", "m/build"]);
  expect([build.exitCode, build.stderr]).toEqual([0, ""]);
  expect(await ws.fs.readFile("/m/build/out.txt", "utf8")).toBe("one\n");
  await ws.fs.writeFile("/m/src/in.txt", "two\n");
  const again = await ws.exec("cmake", ["--build", "m/build"]);
  expect([again.exitCode, again.stderr]).toEqual([0, ""]);
  expect(await ws.fs.readFile("/m/build/out.txt", "utf8")).toBe("two\n");
  await ws.close();
}

/** `make` rebuilds exactly: after an input changed through the API or through a command, and only then. */
export async function makeRebuilds(fresh: FreshMount): Promise<void> {
  const ws = new Workspace({ mounts: { "/m": fresh() } });
  await ws.fs.writeFile("/m/Makefile", "out.txt: in.txt\n\tcp in.txt out.txt\n");
  await ws.fs.writeFile("/m/in.txt", "v1\n");
  const make = () => ws.exec("make", ["-C", "m", "--no-print-directory"]);
  const built = (stdout: string) => stdout.includes("cp in.txt out.txt");
  const first = await make();
  expect([first.exitCode, built(first.stdout)]).toEqual([0, true]);
  const second = await make();
  expect([second.exitCode, built(second.stdout)]).toEqual([0, false]);
  expect(second.stdout).toContain("is up to date");
  expect(second.changes.mirrored).toEqual([]);
  await ws.fs.writeFile("/m/in.txt", "v2\n");
  const afterApi = await make();
  expect(built(afterApi.stdout)).toBe(true);
  expect(await ws.fs.readFile("/m/out.txt", "utf8")).toBe("v2\n");
  expect(built((await make()).stdout)).toBe(false);
  const edit = await ws.exec("sh", ["-c", "echo v3 > m/in.txt"]);
  expect([edit.exitCode, edit.stderr, edit.changes.errors, edit.changes.modified]).toEqual([
    0,
    "",
    [],
    ["/m/in.txt"],
  ]);
  const afterCommand = await make();
  if (!built(afterCommand.stdout)) {
    // Say what make saw (the host copy's bytes and nanosecond mtimes), so a failure can be explained.
    const seen = await ws.exec("sh", ["-c", "stat -c '%n %.9Y %s' m/in.txt m/out.txt; cat m/in.txt"]);
    const { exitCode, stdout, stderr, changes } = afterCommand;
    expect.fail(
      `make did not rebuild: ${JSON.stringify({ exitCode, stdout, stderr, changes, seen: seen.stdout, edit: edit.changes })}`,
    );
  }
  expect(await ws.fs.readFile("/m/out.txt", "utf8")).toBe("v3\n");
  expect(built((await make()).stdout)).toBe(false);
  await ws.close();
  expect(await storedText(fresh, "out.txt")).toBe("v3\n");
}

/** Unchanged sources do not make Python rewrite its `.pyc` files: 0 puts for a command that changes nothing. */
export async function pycNotRewritten(fresh: FreshMount): Promise<void> {
  const ws = new Workspace({ mounts: { "/m": fresh() } });
  const modules = ["a", "b", "c", "d", "e"];
  await ws.fs.mkdir("/m/pkg", { recursive: true });
  await ws.fs.writeFile("/m/pkg/__init__.py", "");
  for (const name of modules) await ws.fs.writeFile(`/m/pkg/${name}.py`, `VALUE = "${name}"\n`);
  await ws.flushMounts();
  const run = () =>
    ws.exec("python3", ["-c", `import ${modules.map((n) => `pkg.${n}`).join(", ")}`], {
      cwd: "/m",
      env: env(),
    });
  const first = await run();
  expect([first.exitCode, first.stderr]).toEqual([0, ""]);
  expect(first.changes.added.filter((p) => p.endsWith(".pyc"))).toHaveLength(modules.length + 1);
  const puts = [ws.stats.puts];
  for (let i = 0; i < 2; i++) {
    const again = await run();
    expect(again.exitCode).toBe(0);
    expect(again.changes.mirrored).toEqual([]);
    puts.push(ws.stats.puts);
  }
  expect(puts[2]! - puts[0]!).toBe(0);
  // One source changed (another size): exactly its .pyc is written again.
  await ws.fs.writeFile("/m/pkg/a.py", 'VALUE = "changed"\n');
  await ws.flushMounts();
  const before = ws.stats.puts;
  const changed = await run();
  expect(changed.changes.mirrored).toEqual([expect.stringMatching(/^\/m\/pkg\/__pycache__\/a\..*\.pyc$/)]);
  expect(ws.stats.puts - before).toBe(1);
  await ws.close();
}

/**
 * An API write acknowledged while a long command runs, on a path the command then changes: a
 * conflict through the hook (compared with what the command started from, not with what is
 * pending); the exec side wins by default, and the API write is never lost silently.
 */
export async function apiAppendDuringCommand(fresh: FreshMount): Promise<void> {
  const seeded = new Workspace({ mounts: { "/m": fresh() } });
  await seeded.fs.writeFile("/m/journal.txt", "a\n");
  await seeded.close();
  const seen: MountConflict[] = [];
  const ws = new Workspace({ mounts: { "/m": fresh() }, onMountConflict: (c) => void seen.push(c) });
  const running = ws.exec("sh", ["-c", "sleep 1.5; echo c >> m/journal.txt"], { hydrate: true });
  await new Promise((resolve) => setTimeout(resolve, 500));
  await ws.fs.appendFile("/m/journal.txt", "b\n");
  await ws.flushMounts();
  expect(await storedText(fresh, "journal.txt")).toBe("a\nb\n");
  const r = await running;
  expect(r.changes.conflicts.map((c) => [c.kind, c.path, c.resolution])).toEqual([
    ["exec", "/m/journal.txt", "accept"],
  ]);
  expect(seen.map((c) => [c.kind, c.local.size, c.remote.size])).toEqual([["exec", 4, 4]]);
  await ws.close();
  expect(await storedText(fresh, "journal.txt")).toBe("a\nc\n");
}

/**
 * Files the command could not see (stubs it was not given): whatever it leaves there never
 * replaces the stored bytes (log append, touch, SQLite's connect, a rewritten lockfile, `mkdir -p`
 * over a file); each is reported as `unseen`, the command's bytes kept beside the stored file.
 */
export async function unseenNeverOverwrites(fresh: FreshMount): Promise<void> {
  const seed = new Workspace({ mounts: { "/m": fresh() } });
  await seed.fs.writeFile("/m/log", "line 1\nline 2\n");
  await seed.fs.writeFile("/m/README.md", "# readme\n");
  await seed.fs.writeFile(
    "/m/package-lock.json",
    `${JSON.stringify({ lockfileVersion: 3, packages: {} }, null, 2)}\n`,
  );
  await seed.fs.writeFile("/m/out", "data");
  const db = await seed.exec("sqlite3", ["m/db.sqlite", "create table t(x); insert into t values (1);"]);
  expect([db.exitCode, db.stderr]).toEqual([0, ""]);
  await seed.close();
  const before = new Map<string, string>();
  for (const rel of ["log", "README.md", "package-lock.json", "out"])
    before.set(rel, await storedText(fresh, rel));
  const dbBytes = await storedBytes(fresh, "db.sqlite");
  expect(dbBytes.length).toBeGreaterThan(0);

  const ws = new Workspace({ mounts: { "/m": fresh() } });
  const r = await ws.exec(
    "sh",
    [
      "-c",
      [
        "echo x >> m/log",
        "touch m/README.md",
        "sqlite3 m/db.sqlite 'select count(*) from t' 2>/dev/null",
        "echo '{}' > m/package-lock.json",
        "mkdir -p m/out/logs",
        "true",
      ].join("; "),
    ],
    { hydrate: false },
  );
  expect(r.exitCode).toBe(0);
  const unseen = r.changes.conflicts
    .filter((c) => c.kind === "unseen")
    .map((c) => [c.path, c.keptAs ?? null]);
  expect(unseen.sort()).toEqual(
    [
      ["/m/README.md", "/m/README.md.exec-unseen"],
      ["/m/db.sqlite", "/m/db.sqlite.exec-unseen"],
      ["/m/log", "/m/log.exec-unseen"],
      ["/m/out", null],
      ["/m/package-lock.json", "/m/package-lock.json.exec-unseen"],
    ].sort(),
  );
  // The next command sees the VFS again: the stubs stay absent, the kept copies are there.
  const next = await ws.exec("sh", ["-c", "ls m"], { hydrate: false });
  expect(next.stdout.split("\n")).toEqual(
    expect.arrayContaining(["log.exec-unseen", "README.md.exec-unseen"]),
  );
  expect(next.changes.conflicts).toEqual([]);
  await ws.close();
  for (const [rel, text] of before) expect(await storedText(fresh, rel)).toBe(text);
  expect((await storedBytes(fresh, "db.sqlite")).equals(dbBytes)).toBe(true);
  expect(await storedText(fresh, "log.exec-unseen")).toBe("x\n");
}

/**
 * A large file a command writes goes to the mount part by part and stays a stub in the VFS
 * (issue 18.5): reading it through the workspace fetches it from the mount, the next command
 * still sees it (no put, no conflict), a command's change to it streams again, and a new
 * workspace reads the same bytes. `size` is above `streamBytes`.
 */
export async function largeFileStreamed(fresh: FreshMount, size: number, streamBytes: number): Promise<void> {
  const puts: Array<{ path: string; bytes: number }> = [];
  const seen: MountConflict[] = [];
  const ws = new Workspace({ mounts: { "/m": fresh() }, onMountConflict: (c) => void seen.push(c) });
  ws.on("put", (e) => void puts.push({ path: e.path, bytes: e.bytes ?? -1 }));
  const write = await ws.exec(
    "sh",
    ["-c", `head -c ${size} /dev/urandom > m/big.bin && sha256sum < m/big.bin && echo small > m/small.txt`],
    { streamBytes },
  );
  expect([write.exitCode, write.stderr]).toEqual([0, ""]);
  const sum = write.stdout.split(" ")[0];
  expect(write.changes.added.sort()).toEqual(["/m/big.bin", "/m/small.txt"]);
  expect(write.changes.mirrored.sort()).toEqual(["/m/big.bin", "/m/small.txt"]);
  expect(write.changes.errors).toEqual([]);
  expect(puts.find((p) => p.path === "/m/big.bin")?.bytes).toBe(size);
  expect((await ws.fs.stat("/m/big.bin")).size).toBe(size);
  // `hydrate: true` does not fetch it: the exec directory already holds that version.
  const fetchesBefore = ws.stats.fetches;
  const hydrated = await ws.exec("sh", ["-c", "sha256sum < m/big.bin"], { hydrate: true, streamBytes });
  expect([hydrated.exitCode, hydrated.stdout.split(" ")[0], ws.stats.fetches]).toEqual([
    0,
    sum,
    fetchesBefore,
  ]);
  // Nor does the default (`"auto"`): the held copy is not a file the command could not see.
  const auto = await ws.exec("sh", ["-c", "sha256sum < m/big.bin"], {
    streamBytes,
    hydrateBudget: { maxBytes: 1024 },
  });
  expect([auto.stdout.split(" ")[0], auto.absent, ws.stats.fetches]).toEqual([sum, undefined, fetchesBefore]);
  // The VFS holds a stub, not the bytes: reading it is a fetch from the mount.
  const read = await ws.fs.readFile("/m/big.bin");
  expect(ws.stats.fetches).toBeGreaterThan(fetchesBefore);
  expect(createHash("sha256").update(read).digest("hex")).toBe(sum);
  // The next command sees the file where it left it; nothing is put again.
  const putsBefore = puts.length;
  const again = await ws.exec("sh", ["-c", "sha256sum < m/big.bin"], { streamBytes });
  expect([again.exitCode, again.stdout.split(" ")[0]]).toEqual([0, sum]);
  expect(again.changes.added.concat(again.changes.modified, again.changes.deleted)).toEqual([]);
  expect(puts.length).toBe(putsBefore);
  // A command's change of it streams again, without a conflict.
  const edit = await ws.exec(
    "sh",
    ["-c", "printf XYZ | dd of=m/big.bin bs=1 seek=5 conv=notrunc status=none && sha256sum < m/big.bin"],
    { streamBytes },
  );
  expect([edit.exitCode, edit.stderr]).toEqual([0, ""]);
  expect(edit.changes.modified).toEqual(["/m/big.bin"]);
  expect(edit.changes.mirrored).toEqual(["/m/big.bin"]);
  expect(seen).toEqual([]);
  await ws.close();
  const stored = await storedBytes(fresh, "big.bin");
  expect(stored.length).toBe(size);
  expect(stored.subarray(5, 8).toString()).toBe("XYZ");
  expect(createHash("sha256").update(stored).digest("hex")).toBe(edit.stdout.split(" ")[0]);
}
