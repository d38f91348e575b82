import { cloudflareTest } from "@cloudflare/vitest-plugin"; // with vitest 4.1: "@cloudflare/vitest-pool-workers"
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./worker.js",
      miniflare: {
        compatibilityDate: "2026-07-01",
        compatibilityFlags: ["nodejs_compat"],
        // intempt-edge imports its .wasm as a module; without this rule:
        // "Cannot find module './intempt_edge_bg.js' (or './snippets/…') imported from …/intempt_edge_bg.wasm"
        modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
        bindings: {
          INTEMPT_ORGANIZATION: "demo-organization",
          INTEMPT_PROJECT: "demo-project",
          INTEMPT_SOURCE_ID: "616010376811536384",
          INTEMPT_API_KEY: "test-id.test-secret",
          INTEMPT_ENDPOINT: "https://api.intempt.com", // nothing is sent: the tests pass the recorder as the fetch
        },
      },
    }),
  ],
});
