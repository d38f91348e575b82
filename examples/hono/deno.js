// Deno (and Deno Deploy): deno run --allow-net --allow-env deno.js
import app from "./app.js";

Deno.serve({ port: Number(Deno.env.get("PORT") ?? 8000), hostname: "127.0.0.1" }, app.fetch);
