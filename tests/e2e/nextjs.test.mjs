// examples/nextjs built by Next.js itself (`next build`, with Turbopack and
// with webpack) and served by `next start`, against the local ingest server,
// with no configuration for the SDK: a route handler in the default Node.js
// runtime flushing with after(), a route handler in the Edge Runtime, and
// proxy.js (Node.js runtime). Each one's event must arrive, and the server
// must print no warning of the SDK.
//
// One exception, Next's and not the SDK's: Next 16.5.0's webpack build fails
// on ANY App Router route handler with `runtime = "edge"`, one that imports
// nothing included ("Failed to collect page data for /api/edge", ENOENT
// .next/server/app/api/edge/route_client-reference-manifest.js: the edge
// function lists that manifest, which webpack's client compiler writes only
// for Node.js-runtime routes). The webpack build leaves the edge route out
// (and checks that it is not served); the Turbopack build has all three.
//
// The app is installed as a user would: a fresh copy of examples/nextjs under
// target/e2e/nextjs, `npm install` of its pinned next/react/react-dom and of
// the packed tarball (about 360 MB; npm's cache makes later runs quicker).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";

import { startIngestServer } from "../server/ingest-server.mjs";
import { API_KEY, freePort, ROOT, run, tarball, waitForEvents, waitForHttp } from "./harness.mjs";

const APP = join(ROOT, "target", "e2e", "nextjs");
const NEXT = join(APP, "node_modules", "next", "dist", "bin", "next");

// No telemetry; and `next build` must not look for a package-lock.json above
// the app (it would find the repository's) and "patch" it from the registry.
const NEXT_ENV = { NEXT_TELEMETRY_DISABLED: "1", NEXT_IGNORE_INCORRECT_LOCKFILE: "1", NODE_ENV: "production" };

/** The environment of a child: this one's, without any INTEMPT_* variable, plus `extra`. */
function childEnv(extra) {
  const env = { ...process.env, ...NEXT_ENV, ...extra };
  for (const name of Object.keys(process.env)) if (name.startsWith("INTEMPT_") && !(name in extra)) delete env[name];
  // The test runner's own variables would make a child node report to it.
  delete env.NODE_TEST_CONTEXT;
  return env;
}

let server;
before(async () => {
  server = await startIngestServer({ apiKey: API_KEY, organization: "demo-organization", project: "demo-project", sourceId: "616010376811536384" });
  rmSync(APP, { recursive: true, force: true });
  mkdirSync(dirname(APP), { recursive: true });
  cpSync(join(ROOT, "examples", "nextjs"), APP, { recursive: true, filter: (path) => !/[/\\](node_modules|\.next)$/.test(path) });
  // package.json pins next, react and react-dom; the tarball replaces the
  // published intempt-edge.
  const install = await run("npm", ["install", "--no-audit", "--no-fund", "--no-package-lock", "--prefer-offline", "--loglevel=error", tarball()], {
    cwd: APP,
    timeoutMs: 600_000,
  });
  assert.equal(install.code, 0, `npm install failed:\n${install.stdout}\n${install.stderr}`);
});
after(async () => server?.close());

/** The profile's events once `count` have arrived (or after 15 s). */
const eventsOf = (profile, count) => waitForEvents(server, profile, count, { timeoutMs: 15_000, intervalMs: 100 });

/** `next start` on a free port; resolves once it answers. Its output goes to `output.text`. */
async function startNext() {
  const port = await freePort();
  const env = childEnv({
    INTEMPT_ORGANIZATION: "demo-organization",
    INTEMPT_PROJECT: "demo-project",
    INTEMPT_SOURCE_ID: "616010376811536384",
    INTEMPT_API_KEY: API_KEY,
    INTEMPT_ENDPOINT: server.url,
  });
  // Its own process group, so that stopping it stops whatever it started.
  const child = spawn(process.execPath, [NEXT, "start", "--port", String(port), "--hostname", "127.0.0.1"], {
    cwd: APP,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const output = { text: "" };
  child.stdout.on("data", (d) => (output.text += d));
  child.stderr.on("data", (d) => (output.text += d));
  const exited = new Promise((resolve) => child.on("close", resolve));
  const stop = async () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitForHttp(`http://127.0.0.1:${port}/`, 60_000);
  } catch (error) {
    await stop();
    throw new Error(`${error.message}\n${output.text}`);
  }
  return { url: `http://127.0.0.1:${port}`, output, stop };
}

for (const bundler of ["turbopack", "webpack"]) {
  const what =
    bundler === "webpack"
      ? "the Node.js route (after()) and proxy.js (no edge route: Next's webpack bug above)"
      : "the Node.js route (after()), the edge route and proxy.js";
  test(`examples/nextjs built with ${bundler}: ${what} deliver with no configuration`, { timeout: 600_000 }, async () => {
    const routes = [
      ["/api/track", "node", "nodejs"],
      ["/api/edge", "edge", "edge"],
      ["/docs", "proxy", "proxy"],
    ];
    const edgeRoute = join(APP, "app", "api", "edge");
    const edgeAside = join(APP, "..", "nextjs-edge-route-aside");
    if (bundler === "webpack") {
      rmSync(edgeAside, { recursive: true, force: true });
      renameSync(edgeRoute, edgeAside);
      routes.splice(1, 1);
    }
    // Built without the INTEMPT_* variables, as a CI build is: the client is
    // made on first use, so the build never constructs one.
    rmSync(join(APP, ".next"), { recursive: true, force: true });
    const args = [NEXT, "build", ...(bundler === "webpack" ? ["--webpack"] : ["--turbopack"])];
    const build = await run(process.execPath, args, { cwd: APP, env: childEnv({}), timeoutMs: 540_000 });
    if (bundler === "webpack") renameSync(edgeAside, edgeRoute);
    assert.equal(build.code, 0, `next build (${bundler}) failed:\n${build.stdout}\n${build.stderr}`);
    assert.doesNotMatch(build.stdout + build.stderr, /intempt-edge|INVALID_CONFIG/, "the build never made a client");

    const next = await startNext();
    const profile = (where) => `next-${bundler}-${where}`;
    try {
      for (const [path, where] of routes) {
        const response = await fetch(`${next.url}${path}?profile=${profile(where)}`);
        assert.equal(response.status, 200, `${path}: ${await response.text()}\n${next.output.text}`);
        await response.arrayBuffer().catch(() => {});
      }
      if (bundler === "webpack") {
        const response = await fetch(`${next.url}/api/edge?profile=${profile("edge")}`);
        await response.arrayBuffer();
        assert.equal(response.status, 404, "the webpack build has no edge route");
      }
      for (const [path, where, runtime] of routes) {
        const events = await eventsOf(profile(where), 1);
        assert.deepEqual(
          events.map((e) => [e.name, e.item.data]),
          [["Page View", { path, runtime }]],
          `${bundler}, ${where}: the event arrived once\n--- next start's output:\n${next.output.text}`,
        );
      }
    } finally {
      await next.stop();
    }
    assert.doesNotMatch(next.output.text, /\[intempt-edge\]|Cannot find module|network error/, "the SDK printed no warning");
  });
}
