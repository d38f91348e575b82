// Node, Bun and Deno: track n events, await flush(), print the report.
import { SDK } from "intempt-edge";
import { transport } from "./transport.js";

const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
const [endpoint, apiKey, profile, n, mode] = args;
const sdk = new SDK("demo-organization", "demo-project", apiKey, "616010376811536384", mode === "no-flush" ? 60_000 : 100, 20, { endpoint, ...transport() });
for (let i = 0; i < Number(n); i++) await sdk.track(profile, "Page View", { i });
if (mode !== "no-flush") console.log(JSON.stringify(await sdk.flush()));
