// Tests of the local ingest server over real HTTP (run: node --test tests/server/).
import { describe, it, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { startIngestServer } from "./ingest-server.mjs";

const SERVER_PATH = fileURLToPath(new URL("./ingest-server.mjs", import.meta.url));
const API_KEY = "test-id.test-secret";
const BASIC = `Basic ${Buffer.from("test-id:test-secret").toString("base64")}`;
const TRACK = "/v1/org/projects/proj/sources/src/track";
const CONSENTS = "/v1/org/projects/proj/consents/data";
const CHOOSE = "/v1/org/projects/proj/optimization/choose-api";

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

const item = (extra = {}) => ({ eventId: randomUUID(), timestamp: Date.now(), profileId: "p1", ...extra });
const entry = (name, extra) => ({ name, payload: [item(extra)] });
const trackBody = (...entries) => ({ track: entries.length ? entries : [entry("Purchase", { data: { total: 99.99 } })] });

const consentBody = (extra = {}) => ({
  action: "accept",
  category: "GDPR",
  timestamp: Math.floor(Date.now() / 1000),
  profileId: "p1",
  sourceId: "src",
  validUntil: "unlimited",
  source: "intempt-edge",
  ...extra,
});

const chooseBody = (extra = {}) => ({
  identification: { profileId: "p1", sourceId: "src" },
  groups: ["banner"],
  optimizationType: "personalization",
  device: "all",
  ...extra,
});

/**
 * POSTs JSON (or a raw string/Buffer) with the right headers unless overridden.
 * @param {string} base
 * @param {string} path
 * @param {unknown} body
 * @param {{ headers?: Record<string, string>, auth?: boolean, signal?: AbortSignal }} [options]
 */
async function post(base, path, body, { headers = {}, auth = true, signal } = {}) {
  const h = { "content-type": "application/json", ...(auth ? { authorization: BASIC } : {}), ...headers };
  for (const [k, v] of Object.entries(h)) if (v === undefined) delete h[k];
  const res = await fetch(base + path, {
    method: "POST",
    headers: h,
    // A Buffer is a Uint8Array, which fetch takes (the DOM typing refuses Buffer<ArrayBufferLike>).
    body: /** @type {BodyInit} */ (typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body)),
    signal,
  });
  const text = await res.text();
  return { status: res.status, text, headers: res.headers, json: () => JSON.parse(text) };
}

const control = async (base, name, body) => {
  const res = await fetch(`${base}/_intempt/${name}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
};

/** POSTs with node:http so the request target goes out byte for byte (fetch normalizes "..", "%2E%2E"). */
function rawPost(base, target, body) {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const payload = Buffer.from(JSON.stringify(body));
    const req = http.request(
      { hostname, port, path: target, method: "POST", headers: { authorization: BASIC, "content-type": "application/json", "content-length": payload.length } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

const messages = (r) => r.json().errors.map((e) => e.message);

// ---------------------------------------------------------------------------

describe("ingest server", () => {
  let server;
  let base;
  before(async () => {
    server = await startIngestServer();
    base = server.url;
  });
  after(() => server.close());
  beforeEach(() => control(base, "reset", {}));

  describe("track", () => {
    it("accepts a valid batch with 201 and an empty body, and stores every item in order", async () => {
      const body = trackBody(
        entry("Identify", { userId: "john@example.com" }),
        entry("Purchase", { data: { total: 99.99, items: [1, { a: null }] } }),
        entry("Identify", { userId: "u@x", anotherUserId: "555-555-1234" }),
        entry("Identify", { accountId: "intempt.com" }),
        entry("Identify Account", { accountId: "intempt.com", accountAttributes: { country: "USA" } }),
        entry("Sign up", { userId: "u", userAttributes: { plan: "pro" } }),
        entry("Purchase", { userId: "u", accountId: "a", data: {}, userAttributes: { c: 1 }, accountAttributes: { d: 2 } }),
        entry("Viewed", { userAttributes: { c: 1 } }), // record(p, T, ua) without a userId
      );
      const r = await post(base, TRACK, body);
      assert.equal(r.status, 201);
      assert.equal(r.text, "");
      assert.equal(r.headers.get("content-length"), "0");
      const { body: events } = await control(base, "events");
      assert.equal(events.length, 8);
      assert.deepEqual(
        events.map((e) => e.name),
        body.track.map((t) => t.name),
      );
      assert.deepEqual(events[1].item, body.track[1].payload[0]);
      assert.equal(events[0].organization, "org");
      assert.equal(events[0].project, "proj");
      assert.equal(events[0].sourceId, "src");
      assert.equal(events[0].requestId, 1);
      const { body: requests } = await control(base, "requests");
      assert.equal(requests.length, 1);
      assert.equal(requests[0].kind, "track");
      assert.equal(requests[0].authMode, "header");
      assert.equal(requests[0].headers.authorization, BASIC);
      assert.equal(requests[0].body, JSON.stringify(body));
      assert.equal(requests[0].status, 201);
      assert.equal(requests[0].error, null);
      assert.equal(requests[0].fault, null);
    });

    // Each case: a name, a body, and a pattern one of the 400's messages must match.
    /** @type {[string, unknown, RegExp][]} */
    const cases = [
      ["body is an array", [], /body must be a JSON object/],
      ["track missing", {}, /body\.track is required/],
      ["track empty", { track: [] }, /body\.track must be a non-empty array/],
      ["track not an array", { track: {} }, /body\.track must be an array/],
      ["unknown top-level key", { ...trackBody(), batch: true }, /body\.batch is not a known key/],
      ["entry without name", { track: [{ payload: [item()] }] }, /track\[0\]\.name is required/],
      ["empty name", { track: [{ name: "", payload: [item()] }] }, /track\[0\]\.name must be a non-empty string/],
      ["unknown entry key", { track: [{ ...entry("T", { data: {} }), type: "x" }] }, /track\[0\]\.type is not a known key/],
      [
        "two items in payload",
        { track: [{ name: "T", payload: [item(), item()] }] },
        /track\[0\]\.payload must hold exactly 1 item \(the SDK sends one item per call\)/,
      ],
      ["empty payload", { track: [{ name: "T", payload: [] }] }, /track\[0\]\.payload must hold exactly 1 item/],
      ["item not an object", { track: [{ name: "T", payload: ["x"] }] }, /track\[0\]\.payload\[0\] must be a JSON object/],
      ["missing eventId", trackBody({ name: "T", payload: [{ timestamp: Date.now(), profileId: "p" }] }), /track\[0\]\.payload\[0\]\.eventId is required/],
      ["uppercase eventId", trackBody(entry("T", { eventId: randomUUID().toUpperCase() })), /payload\[0\]\.eventId must be a lowercase hyphenated UUID v4/],
      ["UUID v1 eventId", trackBody(entry("T", { eventId: "c232ab00-9414-11ec-b3c8-9f6bdeced846" })), /eventId must be a lowercase hyphenated UUID v4/],
      ["string timestamp", trackBody(entry("T", { timestamp: "1714631904000" })), /track\[0\]\.payload\[0\]\.timestamp must be an integer \(epoch ms\)/],
      ["fractional timestamp", trackBody(entry("T", { timestamp: 1714631904000.5 })), /timestamp must be an integer \(epoch ms\)/],
      ["seconds timestamp", trackBody(entry("T", { timestamp: 1714631904 })), /timestamp must be epoch ms on or after 2010-01-01.*looks like epoch seconds/],
      ["timestamp before 2010", trackBody(entry("T", { timestamp: 1262303999999 })), /timestamp must be epoch ms on or after 2010-01-01/],
      ["timestamp 2 days ahead", trackBody(entry("T", { timestamp: Date.now() + 2 * 86400000 })), /timestamp must not be more than 1 day in the future/],
      ["missing profileId", trackBody({ name: "T", payload: [{ eventId: randomUUID(), timestamp: Date.now() }] }), /payload\[0\]\.profileId is required/],
      // biome-ignore lint/correctness/noPrecisionLoss: a profile ID sent as a (rounded) number is the case
      ["numeric profileId", trackBody(entry("T", { profileId: 616010376811536384 })), /payload\[0\]\.profileId must be a non-empty string/],
      ["empty userId", trackBody(entry("T", { userId: "" })), /payload\[0\]\.userId must be a non-empty string/],
      ["null accountId", trackBody(entry("T", { accountId: null })), /payload\[0\]\.accountId must be omitted when absent, not null/],
      ["null data", trackBody(entry("T", { data: null })), /payload\[0\]\.data must be omitted when absent, not null/],
      ["array data", trackBody(entry("T", { data: [1] })), /payload\[0\]\.data must be a JSON object, not an array/],
      ["string userAttributes", trackBody(entry("T", { userAttributes: "x" })), /payload\[0\]\.userAttributes must be a JSON object/],
      ["sourceId in the item", trackBody(entry("T", { sourceId: "src" })), /payload\[0\]\.sourceId is not a known key \(sourceId belongs in the URL path/],
      ["Identify without ids", trackBody(entry("Identify")), /name "Identify" needs userId .* or accountId/],
      ["Identify with both ids", trackBody(entry("Identify", { userId: "u", accountId: "a" })), /"Identify" carries userId or accountId, not both/],
      ["Identify with data", trackBody(entry("Identify", { userId: "u", data: {} })), /payload\[0\]\.data is not allowed with name "Identify"/],
      ["Identify with userAttributes", trackBody(entry("Identify", { userId: "u", userAttributes: {} })), /userAttributes is not allowed with name "Identify"/],
      [
        "Identify with accountAttributes",
        trackBody(entry("Identify", { accountId: "a", accountAttributes: {} })),
        /accountAttributes is not allowed with name "Identify"/,
      ],
      ["anotherUserId on a non-Identify name", trackBody(entry("Alias", { userId: "u", anotherUserId: "x" })), /anotherUserId is only sent by alias\(\)/],
      ["anotherUserId without userId", trackBody(entry("Identify", { accountId: "a", anotherUserId: "x" })), /anotherUserId needs userId/],
      ["error in a later entry names its index", trackBody(entry("T"), entry("T", { timestamp: "now" })), /^track\[1\]\.payload\[0\]\.timestamp/],
    ];
    for (const [name, body, expected] of cases) {
      it(`rejects with 400: ${name}`, async () => {
        const r = await post(base, TRACK, body);
        assert.equal(r.status, 400, r.text);
        assert.ok(
          messages(r).some((m) => expected.test(m)),
          `${JSON.stringify(messages(r))} should match ${expected}`,
        );
        assert.deepEqual((await control(base, "events")).body, [], "a rejected batch stores nothing");
      });
    }

    it("reports every error of a batch, not only the first", async () => {
      const r = await post(base, TRACK, trackBody(entry("T", { userId: "" }), entry("T", { data: [] })));
      assert.equal(r.status, 400);
      assert.equal(messages(r).length, 2);
    });

    it("rejects gzip bodies with 400", async () => {
      const r = await post(base, TRACK, trackBody(), { headers: { "content-encoding": "gzip" } });
      assert.equal(r.status, 400);
      assert.match(messages(r)[0], /compressed bodies are rejected/);
    });

    it("requires Content-Type: application/json (415) and valid JSON (400)", async () => {
      let r = await post(base, TRACK, JSON.stringify(trackBody()), { headers: { "content-type": "text/plain" } });
      assert.equal(r.status, 415);
      assert.match(messages(r)[0], /Content-Type must be application\/json/);
      r = await post(base, TRACK, trackBody(), { headers: { "content-type": "application/json; charset=utf-8" } });
      assert.equal(r.status, 201);
      r = await post(base, TRACK, '{"track": [');
      assert.equal(r.status, 400);
      assert.match(messages(r)[0], /body is not valid JSON/);
      r = await post(base, TRACK, "");
      assert.equal(r.status, 400);
      assert.match(messages(r)[0], /body is empty/);
    });

    it("answers 404 for unknown paths and 405 for other methods", async () => {
      let r = await post(base, "/v1/org/projects/proj/sources/src/events", trackBody());
      assert.equal(r.status, 404);
      assert.match(messages(r)[0], /no such endpoint/);
      r = await post(base, "/v1/org/projects/proj/sources/src/track/", trackBody());
      assert.equal(r.status, 404);
      r = await post(base, "/v1//projects/proj/sources/src/track", trackBody());
      assert.equal(r.status, 404);
      assert.match(messages(r)[0], /\{organization\} is empty/);
      const res = await fetch(base + TRACK, { headers: { authorization: BASIC } });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get("allow"), "POST");
      await res.arrayBuffer();
      const { body: requests } = await control(base, "requests");
      assert.deepEqual(
        requests.map((q) => [q.kind, q.status]),
        [
          ["unknown", 404],
          ["unknown", 404],
          ["track", 404],
          ["track", 405],
        ],
      );
    });

    it("accepts any prefix before /v1 and decodes each path segment once", async () => {
      const path = "/gateway/intempt/v1/a%2Fb/projects/p%20q/sources/s%3Fx/track";
      const r = await post(base, path, trackBody());
      assert.equal(r.status, 201, r.text);
      const [ev] = (await control(base, "events")).body;
      assert.equal(ev.organization, "a/b");
      assert.equal(ev.project, "p q");
      assert.equal(ev.sourceId, "s?x");
      assert.equal((await control(base, "requests")).body[0].path, path);
      const bad = await post(base, "/v1/%E0%A4%A/projects/p/sources/s/track", trackBody());
      assert.equal(bad.status, 400);
      assert.match(messages(bad)[0], /malformed percent-encoding/);
    });

    it("never resolves dot segments itself (fetch would; raw HTTP shows the server keeps them)", async () => {
      const status = await rawPost(base, "/v1/%2E%2E/projects/./sources/../track", trackBody());
      assert.equal(status, 201);
      const [ev] = (await control(base, "events")).body;
      assert.deepEqual([ev.organization, ev.project, ev.sourceId], ["..", ".", ".."]);
    });
  });

  describe("auth", () => {
    it("401 without a key, with a wrong key or a malformed header; never echoes the key", async () => {
      const wrong = `Basic ${Buffer.from("test-id:nope-secret").toString("base64")}`;
      for (const headers of [
        { authorization: undefined },
        { authorization: wrong },
        { authorization: "Bearer test-id.test-secret" },
        { authorization: "Basic !!!" },
      ]) {
        const r = await post(base, TRACK, trackBody(), { headers, auth: !("authorization" in headers) || headers.authorization !== undefined });
        assert.equal(r.status, 401, JSON.stringify(headers));
        assert.equal(r.headers.get("www-authenticate"), 'Basic realm="intempt"');
        assert.ok(messages(r)[0].length > 0);
        assert.doesNotMatch(r.text, /test-secret|nope-secret|dGVzdC1pZD/);
      }
      const r = await post(base, `${TRACK}?apiKey=test-id.wrong`, trackBody(), { auth: false });
      assert.equal(r.status, 401);
      assert.doesNotMatch(r.text, /wrong|test-id/);
      assert.equal((await control(base, "events")).body.length, 0);
    });

    it('accepts the legacy query key, records authMode "query" and redacts it', async () => {
      const r = await post(base, `${TRACK}?apiKey=${API_KEY}`, trackBody(), { auth: false });
      assert.equal(r.status, 201);
      const [req] = (await control(base, "requests")).body;
      assert.equal(req.authMode, "query");
      assert.deepEqual(req.query, { apiKey: "[redacted]" });
      assert.doesNotMatch(JSON.stringify(req), /test-secret/);
    });

    it("400 when the key is in both the header and the query", async () => {
      const r = await post(base, `${TRACK}?apiKey=${API_KEY}`, trackBody());
      assert.equal(r.status, 400);
      assert.equal(messages(r)[0], "send the API key in the header or the query, not both");
    });

    it("splits the configured key at the first dot", async () => {
      const s = await startIngestServer({ apiKey: "id.sec.ret" });
      try {
        const auth = `Basic ${Buffer.from("id:sec.ret").toString("base64")}`;
        const r = await post(s.url, TRACK, trackBody(), { headers: { authorization: auth } });
        assert.equal(r.status, 201);
      } finally {
        await s.close();
      }
    });
  });

  describe("consents and choose", () => {
    it("stores a valid consent and answers 200", async () => {
      const body = consentBody({ email: "a@b.c", message: "ok" });
      const r = await post(base, CONSENTS, body);
      assert.equal(r.status, 200);
      assert.deepEqual(r.json(), {});
      const [c] = (await control(base, "consents")).body;
      assert.deepEqual(c.body, body);
      assert.equal(c.organization, "org");
      assert.equal(c.project, "proj");
      assert.equal((await post(base, CONSENTS, consentBody({ category: undefined, validUntil: "1711705256000", action: "reject" }))).status, 200);
      assert.equal((await post(base, CONSENTS, consentBody({ validUntil: 1711705256000 }))).status, 200);
    });

    /** @type {[string, object, RegExp][]} */
    const consentCases = [
      ["millisecond timestamp", { timestamp: Date.now() }, /^body\.timestamp must be epoch seconds, not milliseconds/],
      ["string timestamp", { timestamp: "1714631904" }, /body\.timestamp must be an integer \(epoch seconds\)/],
      ["bad action", { action: "maybe" }, /body\.action must be one of "accept", "reject"/],
      ["missing validUntil", { validUntil: undefined }, /body\.validUntil is required/],
      ["null email", { email: null }, /body\.email must be omitted when absent, not null/],
      ["empty category", { category: "" }, /body\.category must be a non-empty string/],
      ["unknown key", { consent: true }, /body\.consent is not a known key/],
      ["missing source", { source: undefined }, /body\.source is required/],
    ];
    for (const [name, extra, expected] of consentCases) {
      it(`consents 400: ${name}`, async () => {
        const r = await post(base, CONSENTS, consentBody(extra));
        assert.equal(r.status, 400, r.text);
        assert.ok(
          messages(r).some((m) => expected.test(m)),
          JSON.stringify(messages(r)),
        );
      });
    }

    it("choose returns the configured choices and records the body", async () => {
      let r = await post(base, CHOOSE, chooseBody());
      assert.equal(r.status, 200);
      assert.deepEqual(r.json(), { choices: [{ name: "new year banner", group: "banner", body: [{ banner: "holiday-banner" }] }] });
      assert.equal((await control(base, "choices", { choices: [{ name: "x", body: { a: 1 } }] })).status, 200);
      r = await post(base, CHOOSE, chooseBody({ groups: undefined, names: ["new-year-banner"], optimizationType: "experiment" }));
      assert.deepEqual(r.json(), { choices: [{ name: "x", body: { a: 1 } }] });
      assert.equal((await control(base, "chooses")).body.length, 2);
      r = await post(base, CHOOSE, chooseBody({ groups: undefined }));
      assert.equal(r.status, 200, "no list means select all");
    });

    /** @type {[string, object, RegExp][]} */
    const chooseCases = [
      ["groups and names", { names: ["a"] }, /send groups or names, not both/],
      ["bad optimizationType", { optimizationType: "test" }, /body\.optimizationType must be one of/],
      ["device other than all", { device: "mobile" }, /body\.device must be one of "all"/],
      ["numeric group", { groups: ["a", 1] }, /body\.groups must be an array of strings \(\[1\]/],
      ["profileId missing", { identification: { sourceId: "s" } }, /body\.identification\.profileId is required/],
      ["extra identification key", { identification: { profileId: "p", sourceId: "s", userId: "u" } }, /body\.identification\.userId is not a known key/],
      ["a name with spaces (wire contract §5)", { groups: undefined, names: ["new year banner"] }, /body\.names\[0\] must match \^\[a-zA-Z0-9_-\]\*\$/],
      ["a name with a dot", { groups: undefined, names: ["ok", "a.b"] }, /body\.names\[1\] must match/],
    ];
    for (const [name, extra, expected] of chooseCases) {
      it(`choose 400: ${name}`, async () => {
        const r = await post(base, CHOOSE, chooseBody(extra));
        assert.equal(r.status, 400, r.text);
        assert.ok(
          messages(r).some((m) => expected.test(m)),
          JSON.stringify(messages(r)),
        );
      });
    }
  });

  describe("faults", () => {
    const setFaults = async (plan) => assert.equal((await control(base, "faults", plan)).status, 200);

    it("injects a status with the error body and stores nothing", async () => {
      await setFaults({ queue: [{ status: 503 }, { ok: true }, { status: 500, body: { custom: true } }] });
      let r = await post(base, TRACK, trackBody());
      assert.equal(r.status, 503);
      assert.deepEqual(r.json(), { errors: [{ message: "injected 503" }] });
      assert.equal((await control(base, "events")).body.length, 0);
      assert.equal((await post(base, TRACK, trackBody())).status, 201);
      r = await post(base, TRACK, trackBody());
      assert.deepEqual([r.status, r.json()], [500, { custom: true }]);
      assert.equal((await post(base, TRACK, trackBody())).status, 201, "queue exhausted: normal again");
      const { body: requests } = await control(base, "requests");
      assert.deepEqual(
        requests.map((q) => q.fault),
        [{ status: 503 }, null, { status: 500, body: { custom: true } }, null],
      );
      assert.ok(
        requests.every((q) => q.authMode === "header"),
        "faulted requests still record how they authenticated",
      );
      const { body: stats } = await control(base, "stats");
      assert.equal(stats.faults, 2);
      assert.deepEqual(stats.byStatus, { 201: 2, 500: 1, 503: 1 });
    });

    it("sets Retry-After as seconds or as an HTTP date", async () => {
      await setFaults({
        queue: [
          { status: 429, retryAfter: "2" },
          { status: 429, retryAfter: "http-date:+2" },
        ],
      });
      let r = await post(base, TRACK, trackBody());
      assert.equal(r.status, 429);
      assert.equal(r.headers.get("retry-after"), "2");
      r = await post(base, TRACK, trackBody());
      const date = r.headers.get("retry-after");
      assert.match(date, /GMT$/);
      const ahead = Date.parse(date) - Date.now();
      assert.ok(ahead > 0 && ahead <= 2000, `retry-after ${date} is ${ahead} ms ahead`);
    });

    it("delays, then serves normally or with the given status", async () => {
      await setFaults({ queue: [{ delayMs: 300 }, { delayMs: 100, status: 502 }] });
      let t = Date.now();
      assert.equal((await post(base, TRACK, trackBody())).status, 201);
      assert.ok(Date.now() - t >= 290);
      t = Date.now();
      assert.equal((await post(base, TRACK, trackBody())).status, 502);
      assert.ok(Date.now() - t >= 90);
      assert.equal((await control(base, "events")).body.length, 1);
    });

    it("stats count the API requests open at once (inFlight, maxInFlight); reset restarts the most", async () => {
      await setFaults({ queue: [{ delayMs: 300 }, { delayMs: 300 }, { delayMs: 300 }] });
      const three = [post(base, TRACK, trackBody()), post(base, TRACK, trackBody()), post(base, TRACK, trackBody())];
      await Promise.all(three);
      let stats = (await control(base, "stats")).body;
      assert.deepEqual({ inFlight: stats.inFlight, maxInFlight: stats.maxInFlight }, { inFlight: 0, maxInFlight: 3 });
      await post(base, TRACK, trackBody());
      assert.equal((await control(base, "stats")).body.maxInFlight, 3, "control requests and later single ones do not lower it");
      await control(base, "reset", {});
      await post(base, TRACK, trackBody());
      stats = (await control(base, "stats")).body;
      assert.deepEqual({ inFlight: stats.inFlight, maxInFlight: stats.maxInFlight }, { inFlight: 0, maxInFlight: 1 });
    });

    it("a client that gives up during a delay is not processed (one event after a retry)", async () => {
      await setFaults({ queue: [{ delayMs: 300 }] });
      await assert.rejects(post(base, TRACK, trackBody(), { signal: AbortSignal.timeout(100) }));
      await new Promise((r) => setTimeout(r, 350));
      assert.equal((await control(base, "events")).body.length, 0);
      assert.match((await control(base, "requests")).body[0].error, /client went away/);
    });

    it("hang never answers; the client gives up and nothing is stored", async () => {
      await setFaults({ queue: [{ hang: true }] });
      await assert.rejects(post(base, TRACK, trackBody(), { signal: AbortSignal.timeout(300) }), /abort|timeout/i);
      assert.equal((await control(base, "events")).body.length, 0);
      assert.equal((await control(base, "requests")).body[0].status, null);
    });

    it('drop "before" cuts the connection without storing', async () => {
      await setFaults({ queue: [{ drop: "before" }] });
      await assert.rejects(post(base, TRACK, trackBody()), TypeError);
      assert.equal((await control(base, "events")).body.length, 0);
      assert.equal((await post(base, TRACK, trackBody())).status, 201, "the next request works");
    });

    it('drop "mid" stores the event but the client sees a network error; a retry duplicates it', async () => {
      await setFaults({ queue: [{ drop: "mid" }] });
      const body = trackBody();
      await assert.rejects(post(base, TRACK, body), TypeError);
      assert.equal((await control(base, "events")).body.length, 1);
      assert.equal((await post(base, TRACK, body)).status, 201);
      const { body: stats } = await control(base, "stats");
      assert.equal(stats.events, 2);
      assert.equal(stats.uniqueEventIds, 1);
      assert.equal(stats.duplicates, 1);
      const [first] = (await control(base, "requests")).body;
      assert.deepEqual([first.status, first.fault], [201, { drop: "mid" }]);
    });

    it("seeded random faults are deterministic for the same seed and stop after maxFaults", async () => {
      const run = async (seed) => {
        await control(base, "reset", {});
        await setFaults({ random: { seed, probability: 0.4, modes: [{ status: 503 }, { status: 429, retryAfter: "0" }, { status: 500 }] } });
        const statuses = [];
        for (let i = 0; i < 25; i++) statuses.push((await post(base, TRACK, trackBody())).status);
        return statuses;
      };
      const a = await run(42);
      assert.deepEqual(await run(42), a);
      assert.ok(a.some((s) => s !== 201) && a.some((s) => s === 201), `a mix is expected: ${a}`);
      assert.notDeepEqual(await run(7), a);

      await control(base, "reset", {});
      await setFaults({ random: { seed: 1, probability: 1, modes: [{ status: 503 }], maxFaults: 3 } });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await post(base, TRACK, trackBody())).status);
      assert.deepEqual(statuses, [503, 503, 503, 201, 201]);
    });

    it("queue entries come before random ones", async () => {
      await setFaults({ queue: [{ status: 418 }], random: { seed: 1, probability: 1, modes: [{ status: 503 }], maxFaults: 1 } });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await post(base, TRACK, trackBody())).status);
      assert.deepEqual(statuses, [418, 503, 201]);
    });

    it("rejects a malformed fault plan with the reason", async () => {
      for (const plan of [
        { queue: [{ status: 99 }] },
        { queue: [{}] },
        { queue: [{ drop: "later" }] },
        { queue: [{ retryAfter: "2" }] },
        { random: { seed: 1, probability: 2, modes: [] } },
        { queue: [], extra: 1 },
      ]) {
        const r = await control(base, "faults", plan);
        assert.equal(r.status, 400, JSON.stringify(plan));
        assert.ok(r.body.errors[0].message.length > 0);
      }
    });

    it("redirects: a 3xx with Location to a path here, which then answers 200 to anything and records each hit", async () => {
      for (const status of [300, 301, 302, 303, 307, 308]) {
        await control(base, "reset", {});
        const location = `/moved-${status}`;
        assert.equal((await post(base, location, trackBody())).status, 404, "before the fault is applied the path is no target");
        await setFaults({ queue: [{ status, location }] });
        const body = trackBody();
        const res = await fetch(base + TRACK, {
          method: "POST",
          redirect: "manual",
          headers: { authorization: BASIC, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        assert.equal(res.status, status);
        assert.equal(res.headers.get("location"), location);
        assert.equal(await res.text(), "", "a redirect has an empty body");
        assert.deepEqual((await control(base, "events")).body, [], "a redirected request stores nothing");
        assert.deepEqual((await control(base, "redirects")).body, [], "not following it hits nothing");
        const [probe, rec] = (await control(base, "requests")).body;
        assert.deepEqual([probe.status, probe.kind], [404, "unknown"]);
        assert.deepEqual([rec.status, rec.fault, rec.kind], [status, { status, location }, "track"]);
        // The target: 200 to any method and body, with a body that looks like every success of the contract.
        const hit = await post(base, `${location}?x=1`, '{"anything": true}', { headers: { "content-type": "text/plain" } });
        assert.equal(hit.status, 200);
        assert.deepEqual(hit.json(), { choices: [] });
        const get = await fetch(base + location);
        assert.equal(get.status, 200);
        await get.arrayBuffer();
        const hits = (await control(base, "redirects")).body;
        assert.deepEqual(
          hits.map((h) => [h.method, h.path, h.body]),
          [
            ["POST", location, '{"anything": true}'],
            ["GET", location, ""],
          ],
        );
        assert.deepEqual(hits[0].query, { x: "1" });
        assert.ok(hits.every((h) => typeof h.receivedAt === "number"));
        assert.equal((await control(base, "requests")).body.length, 2, "hits are not contract requests");
        assert.equal((await control(base, "stats")).body.redirectHits, 2);
      }
    });

    it("redirects: a client that follows lands on the target (POST kept by 307/308, turned into GET by 301/302/303)", async () => {
      for (const [status, method] of [
        [301, "GET"],
        [302, "GET"],
        [303, "GET"],
        [307, "POST"],
        [308, "POST"],
      ]) {
        await control(base, "reset", {});
        await setFaults({ queue: [{ status, location: "/moved" }] });
        const body = JSON.stringify(trackBody());
        const res = await fetch(base + TRACK, { method: "POST", headers: { authorization: BASIC, "content-type": "application/json" }, body });
        assert.equal(res.status, 200, `${status} followed`);
        assert.equal(res.redirected, true);
        assert.deepEqual(await res.json(), { choices: [] });
        const [hit] = (await control(base, "redirects")).body;
        assert.equal(hit.method, method, `${status} arrives as ${method}`);
        assert.equal(hit.body, method === "POST" ? body : "");
        assert.deepEqual((await control(base, "events")).body, [], "the target stores no event");
      }
    });

    it("redirects: 304 carries no body; a random mode redirects every request it faults; reset forgets the targets", async () => {
      await setFaults({ queue: [{ status: 304, location: "/not-modified" }] });
      const r = await post(base, CONSENTS, consentBody(), { headers: {} });
      assert.equal(r.status, 304);
      assert.equal(r.text, "");
      await setFaults({ random: { seed: 3, probability: 1, modes: [{ status: 308, location: "/elsewhere" }] } });
      for (const path of [TRACK, CONSENTS, CHOOSE]) {
        const res = await fetch(base + path, {
          method: "POST",
          redirect: "manual",
          headers: { authorization: BASIC, "content-type": "application/json" },
          body: "{}",
        });
        assert.deepEqual([res.status, res.headers.get("location")], [308, "/elsewhere"]);
        await res.arrayBuffer();
      }
      assert.equal((await post(base, "/not-modified", "{}")).status, 200);
      assert.equal((await post(base, "/elsewhere", "{}")).status, 200);
      await control(base, "reset", {});
      assert.deepEqual((await control(base, "redirects")).body, []);
      assert.equal((await post(base, "/elsewhere", "{}")).status, 404, "reset forgets the targets");
      assert.equal((await post(base, TRACK, trackBody())).status, 201);
    });

    it("rejects a redirect fault without a 3xx status or with a Location elsewhere", async () => {
      /** @type {[object, RegExp][]} */
      const bad = [
        [{ location: "/moved" }, /queue\[0\]\.location needs a status 300–399/],
        [{ status: 200, location: "/moved" }, /location needs a status 300–399/],
        [{ status: 404, location: "/moved" }, /location needs a status 300–399/],
        [{ status: 301, location: "http://example.com/moved" }, /location must be a path on this server/],
        [{ status: 301, location: "//example.com/moved" }, /location must be a path on this server/],
        [{ status: 301, location: "/" }, /location must be a path on this server/],
        [{ status: 301, location: "/_intempt/events" }, /location must be a path on this server/],
        [{ status: 301, location: 1 }, /location must be a path on this server/],
      ];
      for (const [fault, expected] of bad) {
        const r = await control(base, "faults", { queue: [fault] });
        assert.equal(r.status, 400, JSON.stringify(fault));
        assert.ok(
          r.body.errors.some((e) => expected.test(e.message)),
          `${JSON.stringify(r.body.errors)} should match ${expected}`,
        );
      }
      assert.equal((await control(base, "faults", { queue: [{ status: 302, location: "/a/b?c=d" }] })).status, 200);
    });

    it("reset clears the fault plan", async () => {
      await setFaults({ queue: [{ status: 503 }] });
      await control(base, "reset", {});
      assert.equal((await post(base, TRACK, trackBody())).status, 201);
    });
  });

  describe("control API", () => {
    it("wait resolves once enough events arrived, and answers 408 on timeout", async () => {
      const waiting = control(base, "wait?events=2&timeoutMs=3000");
      await post(base, TRACK, trackBody(entry("A"), entry("B")));
      const r = await waiting;
      assert.equal(r.status, 200);
      assert.equal(r.body.events, 2);
      const t = await control(base, "wait?events=5&timeoutMs=100");
      assert.equal(t.status, 408);
      assert.equal(t.body.events, 2);
    });

    it("does not log control requests and 404s unknown control paths", async () => {
      await control(base, "stats");
      const r = await control(base, "nope");
      assert.equal(r.status, 404);
      assert.deepEqual((await control(base, "requests")).body, []);
    });

    it("logs rejected requests with their reason", async () => {
      await post(base, TRACK, trackBody(entry("T", { timestamp: "x" })));
      const [req] = (await control(base, "requests")).body;
      assert.equal(req.status, 400);
      assert.match(req.error, /track\[0\]\.payload\[0\]\.timestamp must be an integer \(epoch ms\)/);
    });
  });
});

describe("ingest server options and lifecycle", () => {
  it("with organization/project/sourceId configured, other paths 404 and other sourceIds 400", async () => {
    const s = await startIngestServer({ organization: "org", project: "proj", sourceId: "src" });
    try {
      assert.equal((await post(s.url, TRACK, trackBody())).status, 201);
      const r = await post(s.url, "/v1/org/projects/proj/sources/other/track", trackBody());
      assert.equal(r.status, 404);
      assert.match(messages(r)[0], /unknown sourceId "other"/);
      assert.equal((await post(s.url, "/v1/x/projects/proj/consents/data", consentBody())).status, 404);
      const c = await post(s.url, CONSENTS, consentBody({ sourceId: "other" }));
      assert.equal(c.status, 400);
      assert.match(messages(c)[0], /body\.sourceId "other" does not match the configured source "src"/);
    } finally {
      await s.close();
    }
  });

  it("answers 413 over maxBodyBytes", async () => {
    const s = await startIngestServer({ maxBodyBytes: 1000 });
    try {
      const big = trackBody(...Array.from({ length: 20 }, () => entry("T", { data: { pad: "x".repeat(50) } })));
      const r = await post(s.url, TRACK, big);
      assert.equal(r.status, 413);
      assert.match(messages(r)[0], /the limit is 1000 bytes/);
      assert.equal((await post(s.url, TRACK, trackBody())).status, 201, "the connection stays usable");
    } finally {
      await s.close();
    }
  });

  it("keeps connections alive: 50 sequential requests over one socket", async () => {
    const s = await startIngestServer();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const one = (body) =>
        new Promise((resolve, reject) => {
          const payload = Buffer.from(JSON.stringify(body));
          const req = http.request(
            `${s.url}${TRACK}`,
            { method: "POST", agent, headers: { authorization: BASIC, "content-type": "application/json", "content-length": payload.length } },
            (res) => {
              assert.equal(res.httpVersion, "1.1");
              assert.ok(res.headers["content-length"] !== undefined);
              res.resume();
              res.on("end", () => resolve(res.statusCode));
            },
          );
          req.on("error", reject);
          req.end(payload);
        });
      for (let i = 0; i < 50; i++) assert.equal(await one(trackBody()), 201);
      const stats = s.stats();
      assert.equal(stats.events, 50);
      assert.equal(stats.connections, 1);
    } finally {
      agent.destroy();
      await s.close();
    }
  });

  it("close() does not hang on hung and keep-alive sockets", async () => {
    const s = await startIngestServer();
    s.setFaults({ queue: [{ hang: true }] });
    const pending = post(s.url, TRACK, trackBody()).catch((e) => e);
    while (s.state.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    const t = Date.now();
    await s.close();
    assert.ok(Date.now() - t < 1000);
    assert.ok((await pending) instanceof Error);
  });

  it("close() ends pending waits", async () => {
    const s = await startIngestServer();
    const waiting = fetch(`${s.url}/_intempt/wait?events=1&timeoutMs=60000`).then(
      (r) => r.status,
      (e) => e,
    );
    await new Promise((r) => setTimeout(r, 50));
    const t = Date.now();
    await s.close();
    await waiting;
    assert.ok(Date.now() - t < 1000);
  });

  it("CLI prints one JSON line with the url and exits 0 on SIGTERM", async () => {
    const child = spawn(process.execPath, [SERVER_PATH, "--port", "0", "--api-key", "cli.key", "--log"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    await new Promise((resolve, reject) => {
      child.stdout.on("data", (d) => {
        out += d;
        if (out.includes("\n")) resolve();
      });
      child.on("exit", () => reject(new Error(`exited early: ${err}`)));
    });
    const lines = out.trim().split("\n");
    assert.equal(lines.length, 1);
    const { url } = JSON.parse(lines[0]);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const auth = `Basic ${Buffer.from("cli:key").toString("base64")}`;
    assert.equal((await post(url, TRACK, trackBody(), { headers: { authorization: auth } })).status, 201);
    child.kill("SIGTERM");
    assert.deepEqual(await exited, { code: 0, signal: null });
    assert.equal(out, lines[0] + "\n", "nothing else on stdout");
    assert.match(err, /POST \/v1\/org\/projects\/proj\/sources\/src\/track → 201/);
    assert.doesNotMatch(err, /cli\.key|Y2xpOmtleQ/, "the key never reaches the log");
  });
});
