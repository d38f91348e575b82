// The Node app runs twice in the e2e suites: as "node", with the package's
// default transport (node:http with a keep-alive agent), and as "node-fetch"
// (INTEMPT_E2E_TRANSPORT=fetch), where every client these suites make without
// a `fetch` of their own is given the global fetch as its `fetch` option: the
// path any caller's fetch takes. Deno, Bun and workerd run with their defaults.

const viaFetch = (() => {
  try {
    return !globalThis.Deno && globalThis.process?.env?.INTEMPT_E2E_TRANSPORT === "fetch";
  } catch {
    return false;
  }
})();

/** Options to spread into a client's options: `{ fetch: globalThis.fetch }` in the node-fetch run, else none. */
export const transport = () => (viaFetch ? { fetch: globalThis.fetch } : {});

/** The runtime's name as the suites use it. */
export const runtimeName = () => (globalThis.Deno ? "deno" : globalThis.Bun ? "bun" : viaFetch ? "node-fetch" : "node");
