// A Cloudflare Worker that records a page view and a purchase per request.
//
// The client lives at module scope and is shared by concurrent requests; it
// is created on the first request because `env` arrives with it (creating it
// does no I/O, so module scope would be allowed too). Events leave either
// with `ctx.waitUntil(intempt.flush())` below or, if a handler forgets that,
// with the background flush the SDK hands to the runtime's waitUntil itself.
//
// createWorker({ fetch }) exists for tests: worker.test.js passes the
// recorder of "intempt-edge/testing" as the SDK's `fetch` option.
import { SDK } from "intempt-edge";

export function createWorker({ fetch } = {}) {
  let intempt;
  return {
    async fetch(request, env, ctx) {
      intempt ??= new SDK(env.INTEMPT_ORGANIZATION, env.INTEMPT_PROJECT, env.INTEMPT_API_KEY, env.INTEMPT_SOURCE_ID, 100, 20, {
        endpoint: env.INTEMPT_ENDPOINT,
        fetch,
      });
      const url = new URL(request.url);
      const profileId = url.searchParams.get("profile") ?? "1845348";

      await intempt.track(profileId, "Page View", { path: url.pathname });
      if (url.pathname === "/buy") {
        await intempt.identify(profileId, "john@example.com");
        await intempt.track(profileId, "Purchase", { price_amount: 50, product_name: "Shoes" });
      }
      ctx.waitUntil(intempt.flush());
      return new Response(`recorded for profile ${profileId}\n`);
    },
  };
}

export default createWorker();
