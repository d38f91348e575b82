// The small event every measurement sends, and the batching every SDK uses.
// Shared by the Node adapters (sdks.mjs) and the Workers (workers/*.js).
export const PROPS = { plan: "pro", amount: 42.5, items: ["a", "b"], nested: { k: "v" } };
export const TITLE = "Purchase";
export const PROFILES = Array.from({ length: 100 }, (_, i) => `user-${i}`);
/** Events per request: intempt-edge's maxBatchSize, the peers' flushAt (and posthog's maxBatchSize). */
export const BATCH = 20;
/** A queue bound no run reaches (intempt-edge's default is 10,000; posthog-node 5.70's 10,000, dropping the oldest). */
export const QUEUE = 1_000_000;
/**
 * intempt-edge's positional arguments: org, project, API key, source id, batchTimeMs (its default), maxBatchSize.
 * @type {[string, string, string, string, number, number]}
 */
export const INTEMPT_ARGS = ["bench-org", "bench-project", "bench-id.bench-secret", "616010376811536384", 100, BATCH];
