// Bun: like Node — queue per request, flush on shutdown.
import { SDK } from "intempt-edge";

const intempt = new SDK(
  process.env.INTEMPT_ORGANIZATION ?? "demo-organization",
  process.env.INTEMPT_PROJECT ?? "demo-project",
  process.env.INTEMPT_API_KEY ?? "",
  process.env.INTEMPT_SOURCE_ID ?? "616010376811536384",
  100,
  20,
  { endpoint: process.env.INTEMPT_ENDPOINT },
);

const server = Bun.serve({
  port: Number(process.env.PORT ?? 3000),
  hostname: "127.0.0.1",
  async fetch(request) {
    const url = new URL(request.url);
    await intempt.track(url.searchParams.get("profile") ?? "1845348", "Page View", { path: url.pathname, runtime: "bun" });
    return new Response("ok\n");
  },
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, async () => {
    server.stop();
    const report = await intempt.close();
    console.log(`flushed on shutdown: ${JSON.stringify(report)}`);
    process.exit(0);
  });
}
console.log(`listening on ${server.port}`);
