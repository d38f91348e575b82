// One Hono app for Cloudflare Workers, Deno, Bun and Node (the entry files
// beside it start it on each). The intempt-edge/hono middleware gives every
// handler the client as c.var.intempt and flushes after the handler:
// handed to waitUntil on Workers, awaited before the response elsewhere.
import { Hono } from "hono";
import { env } from "hono/adapter"; // c.env on Workers, the process environment elsewhere
import { SDK } from "intempt-edge";
import { intempt } from "intempt-edge/hono";

const app = new Hono();

// Called on the first request (on Workers the env exists only then); the
// client is kept for every later request of the isolate or process.
app.use(
  intempt((c) => {
    const { INTEMPT_ORGANIZATION, INTEMPT_PROJECT, INTEMPT_API_KEY, INTEMPT_SOURCE_ID, INTEMPT_ENDPOINT } = env(c);
    return new SDK(INTEMPT_ORGANIZATION, INTEMPT_PROJECT, INTEMPT_API_KEY, INTEMPT_SOURCE_ID, { endpoint: INTEMPT_ENDPOINT });
  }),
);

app.get("/", async (c) => {
  const profileId = c.req.query("profile") ?? "1845348";
  await c.var.intempt.track(profileId, "Page View", { path: c.req.path });
  return c.text(`recorded for profile ${profileId}\n`);
});

app.get("/buy", async (c) => {
  const profileId = c.req.query("profile") ?? "1845348";
  await c.var.intempt.track(profileId, "Page View", { path: c.req.path });
  await c.var.intempt.track(profileId, "Purchase", { price_amount: 50, product_name: "Shoes" });
  return c.text(`recorded for profile ${profileId}\n`);
});

// A handler that fails after tracking: the middleware still flushes.
app.get("/checkout", async (c) => {
  const profileId = c.req.query("profile") ?? "1845348";
  await c.var.intempt.track(profileId, "Checkout Started", { path: c.req.path });
  throw new Error("payment service unavailable");
});

app.onError((err, c) => c.text(`failed: ${err.message}\n`, 500));

export default app; // Cloudflare Workers: wrangler.toml's main
