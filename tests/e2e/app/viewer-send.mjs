// The viewer test's sender (tests/e2e/viewer.test.mjs): one track() through
// the installed package, flushed, so the event reaches the server as an SDK
// user's would. Prints the flush report as JSON.
import { SDK } from "intempt-edge";

const [endpoint, apiKey] = process.argv.slice(2);
const sdk = new SDK("demo-organization", "demo-project", apiKey, "616010376811536384", 100, 20, { endpoint });
await sdk.track("viewer-p1", "Viewer Check", { plan: "pro" });
const report = await sdk.flush();
console.log(JSON.stringify({ report }));
