// The scripts the README names leave no process behind once they exit, and
// scripts/env.sh (sourced in a developer's shell) changes no shell option.
// Each runs in a session of its own (spawn's `detached`: setsid), so every
// process it starts, however deep (wrangler → workerd), carries that session
// id unless it makes a session of its own; after the script exits, /proc must
// hold no live process of that session. Whatever a failing run leaves is
// killed here, by PID.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";

import { ROOT, freePort } from "./harness.mjs";

/** Live processes of session `sid`: [{ pid, state, cmdline }] (zombies are not running; they are left out). */
function sessionMembers(sid) {
  const out = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat, cmdline;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
      cmdline = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ").trim();
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid pgrp session …": comm may hold spaces and parentheses.
    const [state, , , session] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(session) === sid && state !== "Z") out.push({ pid: Number(name), state, cmdline });
  }
  return out;
}

const sessions = [];
after(() => {
  for (const sid of sessions) {
    for (const { pid } of sessionMembers(sid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  }
});

/** Starts `bash scripts/<name>` in a session of its own; resolves its exit with the output. */
function start(name, env = {}, timeoutMs = 300_000) {
  const child = spawn("bash", [join("scripts", name)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  sessions.push(child.pid);
  let stdout = "";
  let stderr = "";
  const waiters = [];
  child.stdout.on("data", (d) => {
    stdout += d;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }, timeoutMs);
  const exited = new Promise((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    }),
  );
  const output = () => `stdout:\n${stdout.slice(-4000)}\nstderr:\n${stderr.slice(-4000)}`;
  /** Resolves once stdout matches `pattern`; rejects if the script exits first. */
  const printed = (pattern) =>
    new Promise((resolve, reject) => {
      const check = () => (pattern.test(stdout) ? resolve() : waiters.push(check));
      check();
      exited.then(() => reject(new Error(`the script exited before printing ${pattern}\n${output()}`)));
    });
  return { child, sid: child.pid, exited, printed, output };
}

const describeLeft = (left) => left.map((p) => `${p.pid} [${p.state}] ${p.cmdline}`).join("\n");

function refused(port) {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.on("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", () => resolve(true));
  });
}

test("source scripts/env.sh leaves the caller's shell options (-e, -u, pipefail) as they were", () => {
  const options = (prelude) =>
    execFileSync("bash", ["-c", `${prelude}; source scripts/env.sh; echo "$-"; shopt -o pipefail | tr -s ' \t' ' '`], { cwd: ROOT, encoding: "utf8" })
      .trim()
      .split("\n");
  const [flags, pipefail] = options("true");
  assert.doesNotMatch(flags, /[eu]/, `-e or -u turned on: $- is ${flags}`);
  assert.equal(pipefail, "pipefail off");
  // A caller's own strict mode stays on.
  const [strict, strictPipefail] = options("set -euo pipefail");
  assert.match(strict, /e/);
  assert.match(strict, /u/);
  assert.equal(strictPipefail, "pipefail on");
  assert.ok(
    execFileSync("bash", ["-c", "source scripts/env.sh; command -v wasm-opt"], { cwd: ROOT, encoding: "utf8" }).includes("node_modules/.bin/wasm-opt"),
    "PATH is still set up",
  );
});

test("scripts/demo.sh: prints what arrived and leaves no process behind (no wrangler, no workerd, no ingest server)", { timeout: 400_000 }, async () => {
  const demo = start("demo.sh");
  const { code, signal } = await demo.exited;
  assert.equal(signal, null, demo.output());
  assert.equal(code, 0, demo.output());
  assert.match(demo.output(), /\d+ events accepted/);
  const left = sessionMembers(demo.sid);
  assert.deepEqual(left, [], `processes the demo left running:\n${describeLeft(left)}`);
});

test("scripts/demo.sh: stopped by Ctrl-C while the Worker runs, leaves no process behind", { timeout: 400_000 }, async () => {
  const demo = start("demo.sh");
  await demo.printed(/==> sending requests to the Worker/);
  assert.ok(
    sessionMembers(demo.sid).some((p) => /workerd/.test(p.cmdline)),
    "workerd runs in the demo's session",
  );
  process.kill(-demo.sid, "SIGINT"); // the terminal's Ctrl-C: the foreground process group
  let bound;
  const ended = await Promise.race([demo.exited, new Promise((resolve) => (bound = setTimeout(resolve, 20_000, null)))]);
  clearTimeout(bound);
  assert.ok(ended !== null, `the demo did not exit within 20 s of Ctrl-C\n${demo.output()}`);
  const left = sessionMembers(demo.sid);
  assert.deepEqual(left, [], `processes the demo left running:\n${describeLeft(left)}`);
});

for (const [how, stop] of /** @type {[string, (s: ReturnType<typeof start>) => void][]} */ ([
  ["Ctrl-C (SIGINT to its process group)", (s) => process.kill(-s.child.pid, "SIGINT")],
  ["SIGTERM to the script alone", (s) => process.kill(s.child.pid, "SIGTERM")],
  ["SIGHUP to the script alone (a closed terminal)", (s) => process.kill(s.child.pid, "SIGHUP")],
])) {
  test(`scripts/viewer.sh: stopped by ${how}, leaves no process behind`, async () => {
    const port = await freePort();
    const viewer = start("viewer.sh", { PORT: String(port) }, 60_000);
    await viewer.printed(/viewer: +http:\/\/127\.0\.0\.1:\d+\//);
    assert.equal(await refused(port), false, "the server listens while the viewer runs");
    assert.ok(
      sessionMembers(viewer.sid).some((p) => p.cmdline.includes("ingest-server.mjs")),
      "the server runs in the script's session",
    );
    stop(viewer);
    // It must end by itself, promptly: not at the test's own SIGKILL.
    let bound;
    const ended = await Promise.race([viewer.exited, new Promise((resolve) => (bound = setTimeout(resolve, 10_000, null)))]);
    clearTimeout(bound);
    assert.ok(ended !== null, `the viewer did not exit within 10 s of ${how}\n${viewer.output()}`);
    assert.notEqual(ended.signal, "SIGKILL", viewer.output());
    const left = sessionMembers(viewer.sid);
    assert.deepEqual(left, [], `processes the viewer left running:\n${describeLeft(left)}`);
    assert.equal(await refused(port), true, `port ${port} is free again`);
  });
}
