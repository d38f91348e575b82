// The ingest server's event viewer: its endpoints over plain HTTP, then the
// page itself in headless Chromium (Debian's, driven by playwright-core) while
// the packed SDK sends an event and a broken request arrives: both must show
// up live, and the API key never. Chromium comes from scripts/setup.sh; when
// it is missing the browser test fails (it is part of the suite, not optional).
import assert from "node:assert/strict";
import http from "node:http";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";

import { startIngestServer } from "../server/ingest-server.mjs";
import { API_KEY, BASIC, ROOT, prepareApp, run } from "./harness.mjs";

const CHROMIUM = "/usr/bin/chromium";
// Without the background-networking flags Chromium's own connections are refused here.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const TRACK_PATH = "/v1/demo-organization/projects/demo-project/sources/616010376811536384/track";
const SCREENSHOT = join(ROOT, "target", "artifacts", "viewer.png");
/** Every form the key could leak in: the secret and the Basic credential. */
const SECRET_FORMS = ["test-secret", BASIC.slice("Basic ".length)];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(check, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Opens /_intempt/stream and parses it into messages: {event, data, retry} or {comment}. */
function openStream(base) {
  return new Promise((resolve, reject) => {
    const req = http.get(`${base}/_intempt/stream`, (res) => {
      res.setEncoding("utf8");
      const stream = { res, messages: [], raw: "", ended: new Promise((r) => res.on("close", r)) };
      let buffer = "";
      res.on("data", (chunk) => {
        stream.raw += chunk;
        buffer += chunk;
        for (let i = buffer.indexOf("\n\n"); i !== -1; i = buffer.indexOf("\n\n")) {
          const message = {};
          for (const line of buffer.slice(0, i).split("\n")) {
            if (line.startsWith(":")) message.comment = line.slice(1).trim();
            else {
              const [, field, value] = /^([^:]*): ?(.*)$/.exec(line);
              message[field] = field === "data" ? JSON.parse(value) : value;
            }
          }
          stream.messages.push(message);
          buffer = buffer.slice(i + 2);
        }
      });
      resolve(stream);
    });
    req.on("error", reject);
  });
}

/** The page's window, with the mark the live-update test sets on it. @typedef {Window & { __sameDocument?: boolean }} MarkedWindow */

/** @param {Record<string, string>} [headers] */
const postJson = (base, body, headers = { authorization: BASIC }, path = TRACK_PATH) =>
  fetch(base + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

const trackBody = (name, item) => ({ track: [{ name, payload: [{ eventId: randomUUID(), timestamp: Date.now(), ...item }] }] });

describe("viewer endpoints", () => {
  test("GET / and /_intempt/viewer serve the self-contained page, which is not logged as a request", async () => {
    const server = await startIngestServer({ apiKey: API_KEY });
    try {
      for (const path of ["/", "/_intempt/viewer"]) {
        const res = await fetch(server.url + path);
        assert.equal(res.status, 200, path);
        assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
        assert.match(res.headers.get("content-security-policy"), /default-src 'none'/);
        const html = await res.text();
        assert.match(html, /\/_intempt\/stream/);
        // (assert.ok, not doesNotMatch: a failure should not print the whole page)
        assert.ok(!/(src|href)\s*=\s*["']?(https?:)?\/\//i.test(html), `${path}: nothing is loaded from elsewhere`);
        assert.ok(!/innerHTML|outerHTML|insertAdjacentHTML|document\.write/.test(html), `${path}: request data is never parsed as HTML`);
      }
      assert.equal((await fetch(server.url + "/", { method: "HEAD" })).status, 200);
      assert.equal((await fetch(`${server.url}/_intempt/stream`, { method: "POST" })).status, 405);
      assert.deepEqual(server.state.requests, [], "viewer traffic is not a contract request");
    } finally {
      await server.close();
    }
  });

  test("the stream sends a snapshot, then each request as it arrives and is answered, without the key", async () => {
    const server = await startIngestServer({ apiKey: API_KEY });
    try {
      const early = await postJson(server.url, trackBody("Early", { profileId: "p0" }), {}, `${TRACK_PATH}?apiKey=${API_KEY}`);
      assert.equal(early.status, 201);
      const stream = await openStream(server.url);
      assert.equal(stream.res.headers["content-type"], "text/event-stream; charset=utf-8");
      const snapshot = await until(() => stream.messages.find((m) => m.event === "snapshot"), "the snapshot");
      assert.equal(stream.messages[0].retry, "1000");
      assert.equal(snapshot.data.requests.length, 1);
      const [first] = snapshot.data.requests;
      assert.deepEqual([first.status, first.query, first.events.map((e) => [e.name, e.item.profileId])], [201, { apiKey: "[redacted]" }, [["Early", "p0"]]]);
      assert.deepEqual(snapshot.data.stats, { requests: 1, events: 1, rejected: 0, faults: 0, pending: 0 });

      // A body that carries the key is shown with it blanked out as well.
      const bad = await postJson(server.url, trackBody("Bad", { note: API_KEY }));
      assert.equal(bad.status, 400);
      const updates = await until(() => {
        const views = stream.messages.filter((m) => m.event === "request" && m.data.request.id === 2);
        return views.length === 2 && views;
      }, "two views of request 2");
      assert.equal(updates[0].data.request.status, null, "published on arrival");
      const done = updates[1].data.request;
      assert.equal(done.status, 400);
      assert.match(done.error, /profileId is required/);
      assert.equal(done.headers.authorization, "[redacted]");
      assert.match(done.body, /"note":"\[redacted\]"/);
      assert.deepEqual(updates[1].data.stats, { requests: 2, events: 1, rejected: 1, faults: 0, pending: 0 });

      server.setFaults({ queue: [{ status: 503 }] });
      assert.equal((await postJson(server.url, trackBody("Faulted", { profileId: "p3" }))).status, 503);
      const faulted = await until(
        () => stream.messages.find((m) => m.event === "request" && m.data.request.id === 3 && m.data.request.status),
        "the faulted view",
      );
      assert.deepEqual(faulted.data.request.fault, { status: 503 });
      assert.equal(faulted.data.stats.faults, 1);
      assert.equal(faulted.data.stats.rejected, 1, "an injected status is a fault, not a rejection");

      await fetch(`${server.url}/_intempt/reset`, { method: "POST" });
      const reset = await until(() => stream.messages.find((m) => m.event === "reset"), "the reset message");
      assert.deepEqual(reset.data.stats, { requests: 0, events: 0, rejected: 0, faults: 0, pending: 0 });
      assert.equal((await postJson(server.url, trackBody("After", { profileId: "p4" }))).status, 201);
      const since = stream.messages.indexOf(reset);
      const after = await until(
        () => stream.messages.slice(since).find((m) => m.event === "request" && m.data.request.status === 201),
        "the first request after the reset",
      );
      assert.equal(after.data.request.id, 1);
      assert.deepEqual(after.data.stats, { requests: 1, events: 1, rejected: 0, faults: 0, pending: 0 }, "counters restart with the reset");
      for (const secret of SECRET_FORMS) assert.ok(!stream.raw.includes(secret), `the stream never carries ${secret}`);
    } finally {
      await server.close();
    }
  });

  test("heartbeat comments keep the stream alive, and close() ends open streams at once", async () => {
    const server = await startIngestServer({ apiKey: API_KEY, heartbeatMs: 50 });
    const streams = [await openStream(server.url), await openStream(server.url)];
    await until(() => streams.every((s) => s.messages.some((m) => m.comment?.startsWith("heartbeat"))), "heartbeats");
    const started = Date.now();
    await server.close();
    await Promise.all(streams.map((s) => s.ended));
    assert.ok(Date.now() - started < 1000, `streams ended ${Date.now() - started} ms after close()`);
  });
});

test("viewer page in Chromium: an SDK event and a rejected request appear live; the key never does", async () => {
  assert.ok(
    existsSync(CHROMIUM),
    `Chromium is missing (${CHROMIUM}); the viewer test needs it: run \`bash scripts/setup.sh\`, which installs Debian's chromium package`,
  );
  let chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch (e) {
    assert.fail(`playwright-core is not installed (${e.message}): run \`bash scripts/setup.sh\``);
  }

  const server = await startIngestServer({ apiKey: API_KEY });
  const profileDir = mkdtempSync(join(tmpdir(), "intempt-viewer-chromium-"));
  let context;
  try {
    const app = await prepareApp("viewer");
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 820 },
      colorScheme: "light",
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const problems = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && problems.push(`console error: ${m.text()}`));
    let navigations = 0;
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame()) navigations += 1;
    });

    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => document.body.dataset.state === "live", null, { timeout: 10_000 });
    // A mark on the page's window: gone if the page reloads.
    await page.evaluate(() => {
      /** @type {MarkedWindow} */ (window).__sameDocument = true;
    });

    // An event sent by the SDK itself, from the packed package.
    const sent = await run(process.execPath, [join(app, "viewer-send.mjs"), server.url, API_KEY], { cwd: app });
    assert.equal(sent.code, 0, `viewer-send.mjs exited with ${sent.code}:\n${sent.stderr}`);
    const { report } = JSON.parse(sent.stdout.trim().split("\n").pop());
    assert.equal(report.delivered, 1, `flush report: ${JSON.stringify(report)}`);

    const sdkRow = page.locator("li.req", { hasText: "Viewer Check" });
    await page.waitForSelector('li.req[data-status="201"]', { timeout: 10_000 });
    const sdkText = await sdkRow.innerText();
    assert.match(sdkText, /Viewer Check/);
    assert.match(sdkText, /viewer-p1/);
    assert.match(sdkText, /\b201\b/);
    assert.match(sdkText, /accepted/);
    assert.match(sdkText, new RegExp(TRACK_PATH));

    // A broken request (no profileId), with the right key: rejected, with the server's reason.
    const res = await postJson(server.url, trackBody("Invalid Check", {}));
    assert.equal(res.status, 400);
    const reason = (await res.json()).errors.map((e) => e.message).join("; ");
    assert.match(reason, /profileId is required/);
    await page.waitForSelector('li.req[data-status="400"]', { timeout: 10_000 });
    const badText = await page.locator('li.req[data-status="400"]').innerText();
    assert.match(badText, /Invalid Check/);
    assert.match(badText, /rejected/);
    assert.ok(badText.includes(reason), `the row shows the server's reason ${JSON.stringify(reason)}:\n${badText}`);

    assert.equal(await page.evaluate(() => /** @type {MarkedWindow} */ (window).__sameDocument), true, "updated live, without a reload");
    assert.equal(navigations, 1, "one navigation: the first load");
    const counts = await page.evaluate(() => ["n-requests", "n-events", "n-rejected"].map((id) => document.getElementById(id).textContent));
    assert.deepEqual(counts, ["2", "1", "1"]);
    const order = await page.$$eval("li.req", (lis) => lis.map((li) => li.dataset.status));
    assert.deepEqual(order, ["400", "201"], "newest first");

    // The filter box narrows the list by event title or profile.
    await page.fill("#filter", "viewer-p1");
    assert.deepEqual(await page.$$eval("li.req:not(.hidden)", (lis) => lis.map((li) => li.dataset.status)), ["201"]);
    await page.fill("#filter", "");
    await page.locator("#filter").blur();

    // Everything the page holds, collapsed sections included: no key in any form.
    await page.evaluate(() => {
      for (const d of document.querySelectorAll("details")) d.open = true;
    });
    const everything = [await page.content(), await page.evaluate(() => document.body.innerText)].join("\n");
    for (const secret of SECRET_FORMS) assert.ok(!everything.includes(secret), `the page never shows ${secret}`);
    assert.match(everything, /authorization: \[redacted\]/);

    // The screenshot: the SDK row's body open, everything else folded.
    await page.evaluate(() => {
      for (const d of document.querySelectorAll("details")) d.open = false;
    });
    await sdkRow.locator("details.body").evaluate((/** @type {HTMLDetailsElement} */ d) => (d.open = true));
    mkdirSync(join(ROOT, "target", "artifacts"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    assert.deepEqual(problems, [], "no page errors or console errors (a CSP violation would be one)");
  } finally {
    await context?.close();
    await server.close();
    rmSync(profileDir, { recursive: true, force: true });
  }
});
