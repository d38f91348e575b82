// Nothing for intempt-edge: no serverExternalPackages, no webpack rule. Next's
// bundlers (Turbopack and webpack) pick the package's `node` entry for the
// Node.js runtime (route handlers, proxy.js) and its `edge-light` entry for
// edge routes.
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));

/** @type {import("next").NextConfig} */
export default {
  // This app lives inside another project (with lockfiles of its own): tell
  // Turbopack and file tracing where it starts. A standalone app needs neither.
  turbopack: { root: here },
  outputFileTracingRoot: here,
};
