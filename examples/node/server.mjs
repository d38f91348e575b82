// Node: an HTTP server that records a page view per request and flushes on
// shutdown. The SDK's batch timer does not keep the process alive, so
// SIGTERM → close() → exit delivers what is left and then stops.
import http from "node:http";
import { SDK } from "intempt-edge";

import { createHandler } from "./app.mjs";

const intempt = new SDK(
  process.env.INTEMPT_ORGANIZATION ?? "demo-organization",
  process.env.INTEMPT_PROJECT ?? "demo-project",
  process.env.INTEMPT_API_KEY,
  process.env.INTEMPT_SOURCE_ID ?? "616010376811536384",
  100,
  20,
  { endpoint: process.env.INTEMPT_ENDPOINT },
);

const server = http.createServer(createHandler(intempt));

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, async () => {
    server.close();
    const report = await intempt.close();
    console.log(`flushed on shutdown: ${JSON.stringify(report)}`);
    process.exit(0);
  });
}

const port = Number(process.env.PORT ?? 3000);
server.listen(port, "127.0.0.1", () => console.log(`listening on ${port}`));
