// `npm test`: the tests run inside workerd (Cloudflare's runtime) through
// @cloudflare/vitest-pool-workers, with the bindings below as `env`.
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./worker.js",
      miniflare: {
        compatibilityDate: "2026-07-01",
        compatibilityFlags: ["nodejs_compat"],
        // intempt-edge imports its .wasm as a module, as wrangler bundles it.
        modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
        bindings: {
          INTEMPT_ORGANIZATION: "demo-organization",
          INTEMPT_PROJECT: "demo-project",
          INTEMPT_SOURCE_ID: "616010376811536384",
          INTEMPT_API_KEY: "test-id.test-secret",
          // Nothing is sent there: the tests pass the recorder as the fetch.
          INTEMPT_ENDPOINT: "https://api.intempt.com",
        },
      },
    }),
  ],
});
