// Every example in examples/ runs in its runtime against the local ingest
// server, so an example can never rot: the Node, Bun and Deno servers, the
// JavaScript Worker that wrangler.toml runs, and the Rust Worker.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, test } from "node:test";

import { startIngestServer } from "../server/ingest-server.mjs";
import { API_KEY, bundleWorker, freePort, node22, prepareCopy, ROOT, run, startWorker, tarball, tool, waitForEvents, waitForHttp } from "./harness.mjs";

let server;
before(async () => {
  server = await startIngestServer({ apiKey: API_KEY, organization: "demo-organization", project: "demo-project", sourceId: "616010376811536384" });
});
after(async () => server?.close());

const ENV = () => ({ INTEMPT_API_KEY: API_KEY, INTEMPT_ENDPOINT: server.url });

/** The profile's events once `count` have arrived (or after 10 s). */
const received = (profile, count) => waitForEvents(server, profile, count, { timeoutMs: 10_000, intervalMs: 50 });

/** Starts a server example, sends two requests, stops it with SIGTERM; returns its output. */
async function runServerExample(command, args, cwd, profile) {
  const port = await freePort();
  const child = spawn(command, args, { cwd, env: { ...process.env, ...ENV(), PORT: String(port) }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise((resolve) => child.on("close", resolve));
  try {
    await waitForHttp(`http://127.0.0.1:${port}/health?profile=${profile}-probe`);
    for (const path of ["/", "/pricing"]) {
      const response = await fetch(`http://127.0.0.1:${port}${path}?profile=${profile}`);
      assert.equal(response.status, 200);
    }
  } finally {
    child.kill("SIGTERM");
  }
  const code = await exited;
  return { code, output };
}

for (const [runtime, file] of [
  ["node", "server.mjs"],
  ["bun", "server.ts"],
  ["deno", "main.ts"],
]) {
  test(`examples/${runtime} runs in ${runtime} and its events arrive`, async () => {
    const dir = await prepareCopy(join(ROOT, "examples", runtime), `example-${runtime}`);
    const command = {
      node: [process.execPath, [file]],
      bun: [tool("bun"), [file]],
      deno: [tool("deno"), ["run", "--allow-net=127.0.0.1", "--allow-env", file]],
    }[runtime];
    const { code, output } = await runServerExample(...command, dir, `ex-${runtime}`);
    if (runtime !== "deno") {
      // Node and Bun flush in their SIGTERM handler and exit 0; the Deno
      // example flushes per request and is simply killed.
      assert.match(output, /flushed on shutdown/, output);
      assert.equal(code, 0, output);
    }
    const events = await received(`ex-${runtime}`, 2);
    assert.deepEqual(
      events.map((e) => [e.name, e.item.data.path, e.item.data.runtime]),
      [
        ["Page View", "/", runtime],
        ["Page View", "/pricing", runtime],
      ],
    );
  });
}

test("examples/cloudflare-worker (the Worker wrangler.toml runs) runs in workerd and its events arrive", async () => {
  const dir = await prepareCopy(join(ROOT, "examples", "cloudflare-worker"), "example-worker");
  const worker = await startWorker(await bundleWorker(dir, "worker.js", join(dir, "dist")), {
    bindings: { INTEMPT_ORGANIZATION: "demo-organization", INTEMPT_PROJECT: "demo-project", INTEMPT_SOURCE_ID: "616010376811536384", ...ENV() },
  });
  try {
    for (const path of ["/", "/buy"]) {
      const response = await worker.dispatchFetch(`http://w${path}?profile=ex-worker`);
      assert.match(await response.text(), /recorded for profile ex-worker/);
    }
    const events = await received("ex-worker", 4);
    assert.deepEqual(
      events.map((e) => e.name),
      ["Page View", "Page View", "Identify", "Purchase"],
    );
  } finally {
    await worker.dispose();
  }
});

test("examples/rust-worker (EdgeClient from Rust) builds and runs in workerd and its events arrive", async () => {
  const build = await run("bash", [join(ROOT, "examples", "rust-worker", "build.sh")], { timeoutMs: 300_000 });
  assert.equal(build.code, 0, build.stdout + build.stderr);
  const dir = join(ROOT, "examples", "rust-worker");
  const worker = await startWorker(await bundleWorker(dir, "worker.js", join(ROOT, "target", "e2e", "rust-worker-dist")), {
    bindings: { INTEMPT_ORGANIZATION: "demo-organization", INTEMPT_PROJECT: "demo-project", INTEMPT_SOURCE_ID: "616010376811536384", ...ENV() },
  });
  try {
    for (const path of ["/", "/docs"]) {
      const response = await worker.dispatchFetch(`http://w${path}?profile=ex-rust`);
      assert.equal(await response.text(), "recorded a page view for ex-rust\n");
    }
    const events = await received("ex-rust", 2);
    assert.deepEqual(
      events.map((e) => [e.name, e.item.data]),
      [
        ["Page View", { path: "/", runtime: "rust" }],
        ["Page View", { path: "/docs", runtime: "rust" }],
      ],
    );
  } finally {
    await worker.dispose();
  }
});

// The examples' own tests: what a user runs with `npm test` in each, with the
// recorder of "intempt-edge/testing" as the SDK's fetch (nothing is sent).

test("examples/node: its node:test tests pass with the recorder", async () => {
  const dir = await prepareCopy(join(ROOT, "examples", "node"), "example-node-test");
  // NODE_TEST_CONTEXT unset: else the child reports to this runner, not to stdout.
  const result = await run(process.execPath, ["--test", "--test-reporter=tap"], { cwd: dir, env: { NODE_TEST_CONTEXT: undefined } });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /# pass 2\b/, result.stdout);
  assert.match(result.stdout, /# fail 0\b/, result.stdout);
});

test("examples/deno: its deno test tests pass with the recorder (type-checked, no permissions)", async () => {
  const dir = await prepareCopy(join(ROOT, "examples", "deno"), "example-deno-test");
  const result = await run(tool("deno"), ["test"], { cwd: dir, env: { NO_COLOR: "1" } });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /ok \| 2 passed \| 0 failed/, result.stdout);
});

test("Deno with a local copy of the package (README, Deno quick start): npm i <tarball>, and npm:intempt-edge resolves from node_modules", async () => {
  // Outside the repo: under it, Deno would find the repo's package.json and node_modules.
  const dir = mkdtempSync(join(tmpdir(), "intempt-deno-local-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "deno-local-copy", private: true }, null, 2));
  writeFileSync(join(dir, "deno.json"), JSON.stringify({ nodeModulesDir: "manual" }, null, 2));
  const install = await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", tarball()], { cwd: dir, timeoutMs: 120_000 });
  assert.equal(install.code, 0, install.stderr);
  writeFileSync(
    join(dir, "main.ts"),
    [
      'import { SDK } from "npm:intempt-edge";',
      'const intempt = new SDK("demo-organization", "demo-project", Deno.env.get("INTEMPT_API_KEY")!, "616010376811536384", { endpoint: Deno.env.get("INTEMPT_ENDPOINT") });',
      'await intempt.track("deno-local", "Page View", { path: "/" });',
      "const report = await intempt.flush();",
      'console.log(JSON.stringify({ delivered: report.delivered, from: import.meta.resolve("npm:intempt-edge") }));',
    ].join("\n"),
  );
  const result = await run(tool("deno"), ["run", "--allow-net=127.0.0.1", "--allow-env", "main.ts"], { cwd: dir, env: { ...ENV(), NO_COLOR: "1" } });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const { delivered, from } = JSON.parse(result.stdout.trim().split("\n").pop());
  assert.equal(from, pathToFileURL(join(dir, "node_modules", "intempt-edge", "deno.js")).href);
  assert.equal(delivered, 1);
  assert.deepEqual(
    (await received("deno-local", 1)).map((e) => e.name),
    ["Page View"],
  );
});

// The testing recipe for Workers with both combinations npm offers today
// (README, "Testing your code"), installed in the copy as a user would
// (`npm install` of its package.json, with the packed package): the example's
// own pins (vitest 5 with @cloudflare/vitest-plugin), and vitest 4.1 with
// @cloudflare/vitest-pool-workers, the plugin's former name, whose latest
// release requires vitest 4 (with vitest 5 it fails to start its pool).
const VITEST_COMBINATIONS = [
  { name: "vitest 5.1 + @cloudflare/vitest-plugin 1.5", devDependencies: null, plugin: "@cloudflare/vitest-plugin" },
  {
    name: "vitest 4.1 + @cloudflare/vitest-pool-workers 0.23",
    devDependencies: { "@cloudflare/vitest-pool-workers": "0.23.0", vitest: "4.1.12" },
    plugin: "@cloudflare/vitest-pool-workers",
  },
];

for (const combination of VITEST_COMBINATIONS) {
  test(`examples/cloudflare-worker: its vitest tests pass inside workerd with the recorder (${combination.name})`, async () => {
    const dir = join(ROOT, "target", "e2e", `example-worker-test-${combination.plugin.replace(/\W+/g, "-")}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    const source = join(ROOT, "examples", "cloudflare-worker");
    cpSync(source, dir, { recursive: true, filter: (path) => !path.includes("node_modules") });
    const manifest = JSON.parse(readFileSync(join(source, "package.json"), "utf8"));
    if (combination.devDependencies) {
      manifest.devDependencies = combination.devDependencies;
      writeFileSync(join(dir, "package.json"), JSON.stringify(manifest, null, 2));
      const config = readFileSync(join(dir, "vitest.config.js"), "utf8");
      assert.match(config, /from "@cloudflare\/vitest-plugin"/);
      writeFileSync(join(dir, "vitest.config.js"), config.replace('from "@cloudflare/vitest-plugin"', `from "${combination.plugin}"`));
    }
    const install = await run("npm", ["install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error", tarball()], {
      cwd: dir,
      timeoutMs: 300_000,
    });
    assert.equal(install.code, 0, install.stderr);
    const installed = (name) => JSON.parse(readFileSync(join(dir, "node_modules", name, "package.json"), "utf8")).version;
    const wanted = combination.devDependencies ?? manifest.devDependencies;
    for (const [name, version] of Object.entries(wanted)) assert.equal(installed(name), version, name);
    // vitest 5, the plugin and the pool run wrangler and miniflare, which want Node >= 22.
    const result = await run(node22(), [join(dir, "node_modules", "vitest", "vitest.mjs"), "run"], {
      cwd: dir,
      env: { CI: "true", NO_COLOR: "1" },
      timeoutMs: 180_000,
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /Tests\s+2 passed \(2\)/, result.stdout);

    // What the recipe says happens without the modulesRules line.
    const config = readFileSync(join(dir, "vitest.config.js"), "utf8");
    const withoutRule = config.replace(/^\s*modulesRules: .*\n/m, "");
    assert.notEqual(withoutRule, config);
    writeFileSync(join(dir, "vitest.config.js"), withoutRule);
    const broken = await run(node22(), [join(dir, "node_modules", "vitest", "vitest.mjs"), "run"], {
      cwd: dir,
      env: { CI: "true", NO_COLOR: "1" },
      timeoutMs: 180_000,
    });
    assert.notEqual(broken.code, 0);
    // The .wasm's first JS import the loader tries: the glue, or one of wasm-bindgen's snippets.
    assert.match(broken.stdout + broken.stderr, /Cannot find module '\.\/(intempt_edge_bg\.js|snippets\/[^']+\.js)' imported from \S*intempt_edge_bg\.wasm/);
  });
}
