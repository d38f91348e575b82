// Deno / Deno Deploy: there is no waitUntil, so each request awaits flush()
// before responding.
import { SDK } from "intempt-edge";

const intempt = new SDK(
  Deno.env.get("INTEMPT_ORGANIZATION") ?? "demo-organization",
  Deno.env.get("INTEMPT_PROJECT") ?? "demo-project",
  Deno.env.get("INTEMPT_API_KEY") ?? "",
  Deno.env.get("INTEMPT_SOURCE_ID") ?? "616010376811536384",
  100,
  20,
  { endpoint: Deno.env.get("INTEMPT_ENDPOINT") },
);

Deno.serve({ port: Number(Deno.env.get("PORT") ?? 8000), hostname: "127.0.0.1" }, async (request) => {
  const url = new URL(request.url);
  await intempt.track(url.searchParams.get("profile") ?? "1845348", "Page View", { path: url.pathname, runtime: "deno" });
  const report = await intempt.flush();
  return new Response(`ok, delivered ${report.delivered}\n`);
});
