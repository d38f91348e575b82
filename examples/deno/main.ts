// Deno / Deno Deploy: there is no waitUntil, so each request awaits flush()
// before responding. The handler takes its SDK as an argument, so main_test.ts
// can give it one whose `fetch` is the recorder of "intempt-edge/testing".
import { SDK } from "intempt-edge";

export function createHandler(intempt: SDK): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const profileId = url.searchParams.get("profile") ?? "1845348";
    await intempt.track(profileId, "Page View", { path: url.pathname, runtime: "deno" });
    if (url.pathname === "/buy") await intempt.track(profileId, "Purchase", { price_amount: 50, product_name: "Shoes" });
    const report = await intempt.flush();
    return new Response(`ok, delivered ${report.delivered}\n`);
  };
}

if (import.meta.main) {
  const intempt = new SDK(
    Deno.env.get("INTEMPT_ORGANIZATION") ?? "demo-organization",
    Deno.env.get("INTEMPT_PROJECT") ?? "demo-project",
    Deno.env.get("INTEMPT_API_KEY") ?? "",
    Deno.env.get("INTEMPT_SOURCE_ID") ?? "616010376811536384",
    100,
    20,
    { endpoint: Deno.env.get("INTEMPT_ENDPOINT") },
  );
  Deno.serve({ port: Number(Deno.env.get("PORT") ?? 8000), hostname: "127.0.0.1" }, createHandler(intempt));
}
