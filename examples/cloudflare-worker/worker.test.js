// Runs inside workerd with @cloudflare/vitest-plugin (or, with vitest 4.1,
// @cloudflare/vitest-pool-workers): `npm test`.
// The recorder of "intempt-edge/testing" is the SDK's fetch: every request is
// checked against Intempt's wire contract and answered like Intempt, in
// process, so the test asserts what the Worker tracked.
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { createRecorder } from "intempt-edge/testing";
import { describe, expect, it } from "vitest";

import { createWorker } from "./worker.js";

async function call(worker, path) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`https://shop.example${path}`), env, ctx);
  await waitOnExecutionContext(ctx); // the flush handed to ctx.waitUntil
  return response;
}

describe("the Worker", () => {
  it("tracks a Purchase on /buy", async () => {
    const recorder = createRecorder({ apiKey: env.INTEMPT_API_KEY, sourceId: env.INTEMPT_SOURCE_ID });
    const worker = createWorker({ fetch: recorder });

    const response = await call(worker, "/buy?profile=p1");

    expect(await response.text()).toBe("recorded for profile p1\n");
    expect(recorder.events().map((e) => e.name)).toEqual(["Page View", "Identify", "Purchase"]);
    const purchase = recorder.events().find((e) => e.name === "Purchase");
    expect(purchase.item).toMatchObject({ profileId: "p1", data: { price_amount: 50, product_name: "Shoes" } });
    expect(recorder.requests().every((r) => r.status === 201)).toBe(true);
  });

  it("still delivers when Intempt answers 503 once", async () => {
    const recorder = createRecorder({ apiKey: env.INTEMPT_API_KEY });
    recorder.failNext({ status: 503, retryAfter: "0" });
    const worker = createWorker({ fetch: recorder });

    await call(worker, "/?profile=p2");

    expect(recorder.requests().map((r) => r.status)).toEqual([503, 201]);
    expect(recorder.events().map((e) => [e.name, e.item.data])).toEqual([["Page View", { path: "/" }]]);
  });
});
