// node-transport.test.mjs: one event and one flush, printed as JSON, with
// HTTP_PROXY set by the test. argv: endpoint, apiKey, and either "default"
// (the package's own transport) or the path of a module to import first that
// exports `options` (the README's proxy recipe, written out by the test).
import { pathToFileURL } from "node:url";
import { SDK } from "intempt-edge";

const [endpoint, apiKey, mode] = process.argv.slice(2);
const extra = mode === "default" ? {} : (await import(pathToFileURL(mode).href)).options;
const intempt = new SDK("org", "proj", apiKey, "src", 60_000, 20, { endpoint, requestTimeoutMs: 2_000, flushDeadlineMs: 3_000, ...extra });
await intempt.track("p1", "Proxied", { mode: mode === "default" ? "default" : "recipe" });
console.log(JSON.stringify(await intempt.flush()));
