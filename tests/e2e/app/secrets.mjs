// Secrets: exercises every path that can print, log, throw or serialise
// something — successful and failing requests in header and query mode,
// with `debug: true` (console.log) and with a `logger`, errors of every code
// (a constructor error from a malformed key containing the secret, HTTP_ERROR
// from consent/choose against 400/401/500, NETWORK_ERROR against a closed
// port and on a timeout), and every way to turn the client into text. It
// prints what it collected as one JSON line; secrets.test.mjs looks for the
// API key (whole, secret half, base64 forms) in that and in the raw output.
//
//   node|bun secrets.mjs ENDPOINT API_KEY WRONG_KEY CLOSED_ENDPOINT
//   deno run --allow-net=127.0.0.1 --allow-read --allow-env secrets.mjs …
// This script never prints its arguments.
import { inspect } from "node:util";
import { transport } from "./transport.js";
import { SDK, IntemptError } from "intempt-edge";

const [endpoint, apiKey, wrongKey, closedEndpoint] = globalThis.Deno ? Deno.args : process.argv.slice(2);
const secret = apiKey.slice(apiKey.indexOf(".") + 1);
const keyId = apiKey.slice(0, apiKey.indexOf("."));
const SOURCE = "616010376811536384";

const texts = []; // {where, text}
const logLines = { logger: [], console: [] };
const errors = []; // {label, code, status, isIntemptError}
const reports = [];
const seen = (where, text) => texts.push({ where, text: String(text) });

// console.log is what `debug: true` writes to: keep a copy and pass it on (the test scans stdout too).
const originalLog = console.log;
console.log = (...args) => {
  logLines.console.push(args.map(String).join(" "));
  originalLog(...args);
};

const control = (path, body) => fetch(`${endpoint}/_intempt/${path}`, { method: "POST", body: JSON.stringify(body) }).then((r) => r.text());
const faults = (queue) => control("faults", { queue });

function describeAll(where, value) {
  seen(`${where} String`, String(value));
  try {
    seen(`${where} JSON`, JSON.stringify(value));
  } catch (e) {
    seen(`${where} JSON threw`, e.message);
  }
  seen(`${where} inspect`, inspect(value, { showHidden: true, depth: Infinity }));
  seen(`${where} inspect raw`, inspect(value, { showHidden: true, depth: Infinity, customInspect: false }));
  if (value && typeof value === "object") {
    for (const key of Reflect.ownKeys(value)) {
      try {
        seen(`${where}.${String(key)}`, inspect(value[key], { showHidden: true, depth: Infinity }));
      } catch (e) {
        seen(`${where}.${String(key)} threw`, e.message);
      }
    }
  }
}

function recordError(label, error) {
  errors.push({ label, code: error?.code, status: error?.status ?? null, isIntemptError: error instanceof IntemptError });
  describeAll(`error ${label}`, error);
  seen(`error ${label} message`, error?.message);
  seen(`error ${label} stack`, error?.stack);
  if (error?.cause !== undefined) describeAll(`error ${label} cause`, error.cause);
}

async function expectRejection(label, promiseOrFn) {
  try {
    await (typeof promiseOrFn === "function" ? promiseOrFn() : promiseOrFn);
    errors.push({ label, code: null, resolved: true });
  } catch (error) {
    recordError(label, error);
  }
}

function expectThrow(label, fn) {
  try {
    fn();
    errors.push({ label, code: null, resolved: true });
  } catch (error) {
    recordError(label, error);
  }
}

async function flush(label, sdk) {
  const report = await sdk.flush();
  reports.push({ label, delivered: report.delivered, failed: report.failed, dropped: report.dropped, pending: report.pending });
  describeAll(`report ${label}`, report);
  return report;
}

function client(key, options, batchTimeMs = 100) {
  const sdk = new SDK("demo-organization", "demo-project", key, SOURCE, batchTimeMs, 20, { ...options, ...transport() });
  describeAll("client", sdk);
  seen("client template", `${sdk}`);
  seen("client stats", JSON.stringify(sdk.stats()));
  return sdk;
}

// Short timeouts only where a timeout is the point (a hung server, a closed port).
const quick = { requestTimeoutMs: 150, chooseTimeoutMs: 150, flushDeadlineMs: 400 };

// 1. Every mode × every way of logging, against successes and failures.
for (const authMode of ["header", "query"]) {
  for (const logging of ["logger", "debug"]) {
    const label = `${authMode}/${logging}`;
    const opts = { endpoint, authMode, ...(logging === "logger" ? { logger: (line) => logLines.logger.push(line) } : { debug: true }) };
    const sdk = client(apiKey, opts);
    await faults([]);
    await sdk.track("p1", "Purchase", { n: 1 });
    await flush(`${label} ok`, sdk);
    await faults([{ status: 503 }]);
    await sdk.track("p1", "Purchase", { n: 2 });
    await flush(`${label} 503 then ok`, sdk);
    await faults([{ status: 400 }]);
    await sdk.track("p1", "Purchase", { n: 3 });
    await flush(`${label} 400 dropped`, sdk);
    await faults([{ status: 413 }]);
    await sdk.track("p1", "Purchase", { n: 4 });
    await flush(`${label} 413 dropped`, sdk);
    await faults([{ drop: "mid" }]);
    await sdk.track("p1", "Purchase", { n: 5 });
    await flush(`${label} dropped connection then ok`, sdk);
    await sdk.consents("p1", "accept");
    await sdk.consent("p1", "reject", "GDPR", "unlimited", "a@b.c", "message");
    await sdk.choosePersonalizationsByGroups("p1", ["banner"]);
    await sdk.chooseExperimentsByNames("p1");
    await faults([{ status: 400 }]);
    await expectRejection(`${label} consent 400`, sdk.consents("p1", "accept"));
    await faults([{ status: 500 }, { status: 500 }]);
    await expectRejection(`${label} choose 500`, sdk.chooseExperimentsByGroups("p1", ["banner"]));
    await faults([{ status: 400 }]);
    await expectRejection(`${label} choose 400`, sdk.choosePersonalizationsByNames("p1", ["new year banner"]));
    describeAll(`client ${label} after use`, sdk);

    // A server that never answers: timeouts. (No batch timer: only these calls send.)
    const slow = client(apiKey, { ...opts, ...quick }, 3_600_000);
    await faults(Array.from({ length: 8 }, () => ({ hang: true })));
    await slow.track("p1", "Purchase", { n: 6 });
    await flush(`${label} timeouts`, slow);
    await faults([{ hang: true }, { hang: true }]);
    await expectRejection(`${label} consent timeout`, slow.consent("p1", "accept", "GDPR"));
    await faults([]);
    await flush(`${label} after timeouts`, slow);

    // A key the server refuses: 401 for the tracking batch and the decisions.
    const wrong = client(wrongKey, opts);
    await wrong.track("p1", "Purchase", {});
    await flush(`${label} 401`, wrong);
    await expectRejection(`${label} consent 401`, wrong.consents("p1", "accept"));
    await expectRejection(`${label} choose 401`, wrong.chooseExperimentsByGroups("p1"));

    // A closed port: network errors.
    const closed = client(apiKey, { ...opts, ...quick, endpoint: closedEndpoint });
    await closed.track("p1", "Purchase", {});
    await flush(`${label} closed port`, closed);
    await expectRejection(`${label} consent closed port`, closed.consents("p1", "accept"));
    await expectRejection(`${label} choose closed port`, closed.choosePersonalizationsByGroups("p1", ["banner"]));
    describeAll(`client ${label} closed after use`, closed);
  }
}

// 2. Constructor errors, the malformed key carrying the secret.
/** @type {Record<string, string>} */
const malformedKeys = {
  "secret alone": secret,
  "empty identifier": `.${secret}`,
  "colon instead of dot": `${keyId}:${secret}`,
  "trailing newline": `${apiKey}\n`,
  "inner space": `${keyId}.${secret} x`,
  "non-ASCII": `${apiKey}é`,
  "base64 header form": btoa(`${keyId}:${secret}`),
  // @ts-expect-error -- deliberately not a primitive string: the constructor must refuse it without echoing the secret.
  "boxed string": new String(apiKey),
};
for (const [label, key] of Object.entries(malformedKeys)) {
  expectThrow(`constructor key ${label}`, () => new SDK("demo-organization", "demo-project", key, SOURCE));
  expectThrow(
    `constructor object form key ${label}`,
    () => new SDK({ organization: "demo-organization", project: "demo-project", apiKey: key, sourceId: SOURCE }),
  );
}
const badEndpoints = {
  "user info": endpoint.replace("://", `://${keyId}:${secret}@`),
  query: `${endpoint}/?apiKey=${apiKey}`,
  fragment: `${endpoint}/#${apiKey}`,
  "plain http to a remote host": `http://example.com/${apiKey}`,
  space: `${endpoint}/ ${apiKey}`,
};
for (const [label, url] of Object.entries(badEndpoints)) {
  expectThrow(`constructor endpoint ${label}`, () => new SDK("demo-organization", "demo-project", apiKey, SOURCE, 100, 20, { endpoint: url }));
}
/** @type {Record<string, [number, number, import("intempt-edge").SDKOptions]>} */
const badConfigs = {
  // @ts-expect-error -- deliberately an option the SDK does not know: the constructor must refuse it.
  "unknown option": [100, 20, { endpoint, bogus: 1 }],
  // @ts-expect-error -- deliberately an authMode that does not exist: the constructor must refuse it.
  authMode: [100, 20, { endpoint, authMode: "both" }],
  flushDeadlineMs: [100, 20, { endpoint, flushDeadlineMs: 0 }],
  maxBatchSize: [100, 5_001, { endpoint }],
  // @ts-expect-error -- deliberately a logger that is not a function: the constructor must refuse it.
  logger: [100, 20, { endpoint, logger: "console" }],
};
for (const [label, rest] of Object.entries(badConfigs)) {
  expectThrow(`constructor config ${label}`, () => new SDK("demo-organization", "demo-project", apiKey, SOURCE, ...rest));
  expectThrow(`constructor config ${label} (empty organization)`, () => new SDK("", "demo-project", apiKey, SOURCE, ...rest));
}
expectThrow(
  "constructor object form unknown option",
  // @ts-expect-error -- deliberately an option the SDK does not know: the constructor must refuse it.
  () => new SDK({ organization: "demo-organization", project: "demo-project", apiKey, sourceId: SOURCE, endpoint, oops: true }),
);

// 3. Every per-call error, in both modes.
for (const authMode of ["header", "query"]) {
  const sdk = client(apiKey, { endpoint, authMode, maxEventBytes: 256, maxQueueSize: 1 });
  await expectRejection(`${authMode} INVALID_ARGUMENT`, sdk.track("", "Purchase"));
  // @ts-expect-error -- deliberately a number id: the SDK must reject it with INVALID_ARGUMENT.
  await expectRejection(`${authMode} INVALID_ARGUMENT number id`, sdk.identify(1845348, "u"));
  // @ts-expect-error -- deliberately a function property: the SDK must reject it with INVALID_PROPERTIES.
  await expectRejection(`${authMode} INVALID_PROPERTIES`, sdk.track("p1", "Purchase", { f: () => 1 }));
  await expectRejection(`${authMode} RESERVED_TITLE`, sdk.track("p1", "Identify", {}));
  await expectRejection(`${authMode} ATTRIBUTES_NEED_TITLE`, sdk.identify("p1", "u", undefined, { a: 1 }));
  // @ts-expect-error -- deliberately an action that does not exist: the SDK must reject it with INVALID_ACTION.
  await expectRejection(`${authMode} INVALID_ACTION`, sdk.consents("p1", "maybe"));
  await expectRejection(`${authMode} EVENT_TOO_LARGE`, sdk.track("p1", "Purchase", { s: "x".repeat(1_000) }));
  await sdk.track("p1", "Purchase", {});
  await expectRejection(`${authMode} QUEUE_FULL`, sdk.track("p1", "Purchase", {}));
  const report = await sdk.close();
  describeAll(`report ${authMode} close`, report);
  await expectRejection(`${authMode} CLOSED track`, sdk.track("p1", "Purchase", {}));
  await expectRejection(`${authMode} CLOSED consent`, sdk.consents("p1", "accept"));
  await expectRejection(`${authMode} CLOSED choose`, sdk.chooseExperimentsByGroups("p1"));
  describeAll(`client ${authMode} closed`, sdk);
}

// One line, marked: late debug lines of background flushes may follow it.
originalLog(`SECRETS-RESULT ${JSON.stringify({ texts, logLines, errors, reports })}`);
