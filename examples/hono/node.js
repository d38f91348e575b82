// Node: node node.js
import { serve } from "@hono/node-server";
import app from "./app.js";

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: "127.0.0.1" }, (info) => console.log(`listening on ${info.port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
