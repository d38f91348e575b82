// Types of `intempt-edge/hono`: a Hono (4.x) middleware. Only types come
// from "hono"; at run time this entry imports nothing.
import type { Context, Env, MiddlewareHandler } from "hono";
import type { SDK } from "./index.js";

/** What the middleware sets on the context: `c.var.intempt`, `c.get("intempt")`. */
export type IntemptVariables = { intempt: SDK };

/** An `Env` with the middleware's variable, to merge into your app's: `new Hono<{ Bindings: …; Variables: IntemptVariables }>()`. */
export type IntemptEnv = { Variables: IntemptVariables };

/**
 * The middleware. `client` is an SDK, or a function that makes one from the
 * first request's context (on Workers `c.env` exists only then); its client is
 * kept for every later request. Handlers get it as `c.var.intempt`. After the
 * rest of the chain (also when a handler threw) it flushes: handed to
 * `c.executionCtx.waitUntil` where there is an ExecutionContext, awaited
 * before the response otherwise. A flush never fails the response.
 *
 * The factory's `c` is typed by its annotation (`(c: Context<{ Bindings: B }>) => …`),
 * else `any`. The middleware adds `IntemptVariables` to the app's type when
 * chained (`new Hono().use(intempt(…)).get(…)`); otherwise declare them:
 * `new Hono<{ Variables: IntemptVariables }>()`.
 */
export declare function intempt<E extends Env = any>(client: SDK | ((c: Context<E>) => SDK)): MiddlewareHandler<IntemptEnv>;
