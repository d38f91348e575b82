// Node and Deno: run the beforeSend scenario against the endpoint in the
// arguments; print JSON with the number of unhandled rejections.
import { SDK } from "intempt-edge";
import { beforeSendScenario } from "./before-send.js";

let unhandled = 0;
if (typeof Deno === "object") {
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    unhandled++;
  });
} else {
  process.on("unhandledRejection", () => unhandled++);
}
const [endpoint, apiKey, runtime] = typeof Deno === "object" ? Deno.args : process.argv.slice(2);
const result = await beforeSendScenario(SDK, { endpoint, apiKey, runtime });
// Let any late rejection surface before counting.
await new Promise((resolve) => setTimeout(resolve, 50));
console.log(JSON.stringify({ ...result, unhandled }));
