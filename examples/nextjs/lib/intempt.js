// One client per server process (or edge isolate), made on first use — not at
// import time: `next build` loads route modules to collect their config, with
// none of the runtime's environment variables, and a constructor given no API
// key throws INVALID_CONFIG. The constructor does no I/O, so the first request
// pays nothing for it.
import { SDK } from "intempt-edge";

let client;

export function intempt() {
  client ??= new SDK(
    process.env.INTEMPT_ORGANIZATION,
    process.env.INTEMPT_PROJECT,
    process.env.INTEMPT_API_KEY,
    process.env.INTEMPT_SOURCE_ID,
    { endpoint: process.env.INTEMPT_ENDPOINT }, // unset: Intempt's API
  );
  return client;
}
