import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { WS_BIN } from "../test/run-ws.js";

// The progress display in a real terminal: tmux (Debian tmux) gives `ws` a pty, and pipe-pane
// records every byte it draws. Its own server socket, so no other tmux session is touched.

const socket = `ws-cli-test-${process.pid}`;
const tmux = (...args: string[]): string =>
  execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
let dir: string;

beforeAll(async () => {
  try {
    execFileSync("tmux", ["-V"]);
  } catch {
    throw new Error("tmux is required for the terminal test (Debian/Ubuntu: apt-get install tmux)");
  }
  dir = await mkdtemp(join(tmpdir(), "ws-cli-tty-"));
  for (let i = 0; i < 3000; i++) {
    const sub = join(dir, "src", `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}.txt`), `file ${i}\n`);
  }
});

afterAll(async () => {
  try {
    tmux("kill-server");
  } catch {
    // already gone
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

it("draws a live progress line on a terminal, clears it, and ends with the summary", async () => {
  const log = join(dir, "pane.log");
  const done = join(dir, "done");
  const script = `sleep 0.5; ${process.execPath} ${WS_BIN} cp ./src ./dest; echo "EXIT=$?" > ${done}; sleep 60`;
  tmux("new-session", "-d", "-s", "ws", "-x", "160", "-y", "12", "-c", dir, `sh -c '${script}'`);
  tmux("pipe-pane", "-t", "ws", "-o", `cat >> ${log}`);
  for (let i = 0; i < 600 && !existsSync(done); i++) await new Promise((r) => setTimeout(r, 100));
  expect(readFileSync(done, "utf8")).toBe("EXIT=0\n");
  await new Promise((r) => setTimeout(r, 300)); // let pipe-pane drain
  const raw = readFileSync(log, "utf8");
  // At least one progress frame: carriage return, erase line, text (no newline).
  expect(raw).toMatch(/\r\x1b\[2Kws: copied \d+\/3000 files/);
  expect(raw).toMatch(/ws: copied 3000 files, .* from \.\/src to \.\/dest in [\d.]+s/);
  // What is left on the screen: the summary, and no half-drawn progress line.
  const screen = tmux("capture-pane", "-p", "-t", "ws");
  expect(screen).toMatch(/^ws: copied 3000 files/m);
  expect(screen).not.toMatch(/copied \d+\/3000/);
});
