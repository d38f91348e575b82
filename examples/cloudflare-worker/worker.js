import { SDK } from "intempt-edge";

// createWorker({ fetch }) is for tests: worker.test.js passes the recorder of
// "intempt-edge/testing" as the SDK's fetch. The client is made on the first
// request (env arrives with it) and shared by the isolate's later requests.
/** @param {{ fetch?: typeof globalThis.fetch }} [options] */
export function createWorker({ fetch } = {}) {
  let intempt;
  return {
    async fetch(request, env, ctx) {
      intempt ??= new SDK(env.INTEMPT_ORGANIZATION, env.INTEMPT_PROJECT, env.INTEMPT_API_KEY, env.INTEMPT_SOURCE_ID, {
        endpoint: env.INTEMPT_ENDPOINT, // wrangler.toml [vars]; the API key is a secret
        fetch,
      });
      const url = new URL(request.url);
      const profileId = url.searchParams.get("profile") ?? "1845348";
      await intempt.track(profileId, "Page View", { path: url.pathname });
      if (url.pathname === "/buy") {
        await intempt.identify(profileId, "john@example.com");
        await intempt.track(profileId, "Purchase", { price_amount: 50, product_name: "Shoes" });
      }
      ctx.waitUntil(intempt.flush()); // sends after the response; forgetting it loses nothing either
      return new Response(`recorded for profile ${profileId}\n`);
    },
  };
}

export default createWorker();
