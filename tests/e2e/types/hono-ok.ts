// intempt-edge/hono with its documented types: must type-check (run by
// tests/e2e/hono.test.mjs, where hono is installed beside the package).
import { Hono } from "hono";
import { SDK, type FlushReport } from "intempt-edge";
import { intempt, type IntemptEnv, type IntemptVariables } from "intempt-edge/hono";

type Bindings = { INTEMPT_ORGANIZATION: string; INTEMPT_PROJECT: string; INTEMPT_API_KEY: string; INTEMPT_SOURCE_ID: string; INTEMPT_ENDPOINT?: string };

// A factory reading the request's env, on an app that declares the variable.
const app = new Hono<{ Bindings: Bindings; Variables: IntemptVariables }>();
app.use(
  intempt((c) => new SDK(c.env.INTEMPT_ORGANIZATION, c.env.INTEMPT_PROJECT, c.env.INTEMPT_API_KEY, c.env.INTEMPT_SOURCE_ID, { endpoint: c.env.INTEMPT_ENDPOINT })),
);
app.get("/", async (c) => {
  await c.var.intempt.track("1845348", "Page View", { path: c.req.path });
  const report: FlushReport = await c.get("intempt").flush();
  return c.text(String(report.delivered));
});

// An existing client; the variable's type comes from the middleware when chained.
const client = new SDK("o", "p", "id.secret", "1");
const chained = new Hono().use(intempt(client)).get("/", async (c) => {
  const sdk: SDK = c.var.intempt;
  await sdk.track("1845348", "Page View");
  return c.text("ok");
});

const typedEnv = new Hono<IntemptEnv>();
typedEnv.get("/", (c) => c.text(String(c.var.intempt.stats().queued)));

export { app, chained, typedEnv };
