// intempt-edge/hono with wrong types: tsc must report an error on every line
// marked `expect-error` and nowhere else (run by tests/e2e/hono.test.mjs).
import { Hono } from "hono";
import { SDK } from "intempt-edge";
import { intempt, type IntemptVariables } from "intempt-edge/hono";

const app = new Hono<{ Variables: IntemptVariables }>();
app.use(intempt("id.secret")); // expect-error: a client or a factory
app.use(intempt(() => "not a client")); // expect-error: the factory returns an SDK
app.use(intempt(new SDK("o", "p", "id.secret", "1")));
app.get("/", async (c) => {
  await c.var.intempt.track(1845348, "Page View"); // expect-error: ids are strings
  const n: string = c.get("intempt").stats().queued; // expect-error: a number
  return c.text(n);
});
export { app };
