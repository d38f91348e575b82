// node-transport.test.mjs: three events and one flush with the default
// transport against the endpoint in argv; prints the flush report as JSON.
// argv[4] "delete": there is no global fetch either.
const [endpoint, apiKey, fetchMode] = process.argv.slice(2);
if (fetchMode === "delete") delete globalThis.fetch;
const { SDK } = await import("intempt-edge");
const intempt = new SDK("org", "proj", apiKey, "src", 60_000, 20, { endpoint, requestTimeoutMs: 1_000, flushDeadlineMs: 1_500 });
for (let i = 0; i < 3; i++) await intempt.track("p1", "No Http", { i });
console.log(JSON.stringify(await intempt.flush()));
