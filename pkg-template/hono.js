// intempt-edge/hono: a Hono (4.x) middleware.
//
//   import { SDK } from "intempt-edge";
//   import { intempt } from "intempt-edge/hono";
//   app.use(intempt((c) => new SDK(c.env.INTEMPT_ORGANIZATION, c.env.INTEMPT_PROJECT,
//     c.env.INTEMPT_API_KEY, c.env.INTEMPT_SOURCE_ID, { endpoint: c.env.INTEMPT_ENDPOINT })));
//   app.get("/", async (c) => { await c.var.intempt.track("p1", "Page View"); return c.text("ok"); });
//
// It gives every handler the client as `c.var.intempt` (`c.get("intempt")`)
// and, after the rest of the chain ran (also when a handler threw), flushes:
// handed to `c.executionCtx.waitUntil` where the request has an
// ExecutionContext (Workers), awaited before the response otherwise (Deno,
// Bun, Node, where Hono's `c.executionCtx` getter throws). A flush never
// fails the response. It imports nothing (not hono, not the SDK): the main
// entries never load it and it adds nothing to them.

/**
 * @param {object | ((c: object) => object)} client an SDK, or a function that
 *   makes one from the request's context. The function is called on the first
 *   request (on Workers `c.env` exists only then) and its client is kept for
 *   every later request of this middleware (one per isolate or process). If it
 *   throws, the request fails with its error and the next request calls it again.
 */
export function intempt(client) {
  if (typeof client !== "function" && !isClient(client)) {
    throw new TypeError("intempt-edge/hono: intempt(client) takes an SDK or a function (c) => SDK");
  }
  let made = typeof client === "function" ? undefined : client;
  return async function intemptMiddleware(c, next) {
    if (made === undefined) {
      const value = client(c);
      if (!isClient(value)) {
        throw new TypeError("intempt-edge/hono: the function given to intempt() must return an SDK (with track() and flush())");
      }
      made = value;
    }
    const sdk = made;
    c.set("intempt", sdk);
    try {
      await next();
    } finally {
      // Runs when a handler threw too: what it tracked before throwing is
      // sent, then its error goes on unchanged.
      const flush = safeFlush(sdk);
      const ctx = executionContext(c);
      if (!handTo(ctx, flush)) await flush;
    }
  };
}

function isClient(value) {
  return value !== null && typeof value === "object" && typeof value.flush === "function" && typeof value.track === "function";
}

/** The SDK's flush never rejects; this also holds for a client that would, or that throws. */
function safeFlush(sdk) {
  try {
    return Promise.resolve(sdk.flush()).then(
      (report) => report,
      () => undefined,
    );
  } catch {
    return Promise.resolve(undefined);
  }
}

/** `c.executionCtx`, or undefined where Hono's getter throws ("This context has no ExecutionContext"). */
function executionContext(c) {
  try {
    return c.executionCtx;
  } catch {
    return undefined;
  }
}

/** Hands `promise` to the context's waitUntil; false if there is none or it throws. */
function handTo(ctx, promise) {
  if (!ctx || typeof ctx.waitUntil !== "function") return false;
  try {
    ctx.waitUntil(promise);
    return true;
  } catch {
    return false;
  }
}
