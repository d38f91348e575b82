// The public JavaScript API: a thin class over the wasm `Core`. It only maps
// the seed SDK's method names onto the core and turns synchronous errors into
// rejected promises (the seed API is `await`ed): every method but stats()
// returns a promise and none throws (only the constructor does, with an
// IntemptError). Every rule lives in Rust; the outbox's consumers below only
// carry the core's verdict on a stored batch out on each platform's queue.
import { IntemptError } from "./error.js";
// @ts-expect-error: wasm-bindgen generates the glue at build time (pkg/intempt_edge.js)
import { Core, configure } from "./intempt_edge.js";
import { adaptOutbox, kvBatch, kvValue } from "./outbox.js";

export { IntemptError };

let defaultWaitUntil;

// Vercel's functions (Node.js and Edge) and Next.js's edge sandbox publish
// the current request's `waitUntil` through a global reader: the contract
// @vercel/functions' `waitUntil` reads. Where a reader exists when a client
// is made (and no waitUntil was given, nor a runtime's own), the client's
// background flushes go to the current request's `waitUntil`. Called by the
// core through its guarded path: what a reader throws is ignored.
const REQUEST_CONTEXTS = ["@next/request-context", "@vercel/request-context"];
function requestContextWaitUntil() {
  let readers;
  try {
    readers = REQUEST_CONTEXTS.map((name) => globalThis[Symbol.for(name)]).filter((r) => typeof r?.get === "function");
  } catch {
    return undefined;
  }
  if (readers.length === 0) return undefined;
  return (promise) => {
    for (const reader of readers) {
      const waitUntil = reader.get()?.waitUntil;
      if (typeof waitUntil === "function") return void waitUntil(promise);
    }
  };
}

/**
 * Called once by each runtime entry after the wasm is instantiated.
 * @param {{ waitUntil?: (promise: Promise<unknown>) => void, fetch?: typeof globalThis.fetch }} [runtime]
 */
export function configureRuntime({ waitUntil, fetch } = {}) {
  configure(IntemptError, fetch, adaptOutbox);
  defaultWaitUntil = waitUntil;
}

// A call the core answers synchronously: resolves with undefined.
function settle(call) {
  try {
    call();
    return Promise.resolve();
  } catch (error) {
    return Promise.reject(error);
  }
}

// A call the core answers with a promise; a synchronous throw rejects it.
function promised(call) {
  try {
    return call();
  } catch (error) {
    return Promise.reject(error);
  }
}

// The consumers' options: the longest backoff between redeliveries (a
// server's Retry-After is honoured up to an hour), and for Deno KV how many
// deliveries a stored batch gets before it is dropped with a logged reason
// (Cloudflare Queues count them with the consumer's max_retries).
const REDELIVERY_DEFAULTS = { maxRetryDelayMs: 300_000, maxAttempts: 100 };
// More messages than a Cloudflare consumer batch holds (100) is not one.
const MAX_QUEUE_BATCH = 10_000;
function redeliveryOptions(options) {
  const out = { ...REDELIVERY_DEFAULTS };
  if (options === undefined || options === null) return out;
  for (const name of Object.keys(out)) {
    let value;
    try {
      value = options[name];
    } catch {
      throw new IntemptError("INVALID_ARGUMENT", `options.${name} threw when read; pass a plain object`);
    }
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1) {
      throw new IntemptError("INVALID_ARGUMENT", `${name} must be a positive integer (default ${out[name]})`);
    }
    out[name] = value;
  }
  return out;
}

// A dropped stored batch is always reported: never silently.
function warnDropped(reason) {
  try {
    console.warn(`[intempt-edge] outbox: dropped a stored batch: ${reason}`);
  } catch {}
}

export class SDK {
  #core;

  constructor(organization, project, apiKey, sourceId, batchTimeMs, maxBatchSize, options) {
    this.#core = new Core(organization, project, apiKey, sourceId, batchTimeMs, maxBatchSize, options);
    const fallback = typeof defaultWaitUntil === "function" ? defaultWaitUntil : requestContextWaitUntil();
    if (fallback) this.#core.useDefaultWaitUntil(fallback);
  }

  identify(profileId, userId, eventTitle, userAttributes) {
    return settle(() => this.#core.identify(profileId, userId, eventTitle, userAttributes));
  }

  group(profileId, accountId, eventTitle, accountAttributes) {
    return settle(() => this.#core.group(profileId, accountId, eventTitle, accountAttributes));
  }

  track(profileId, eventTitle, properties) {
    return settle(() => this.#core.track(profileId, eventTitle, properties));
  }

  alias(profileId, userId, anotherUserId) {
    return settle(() => this.#core.alias(profileId, userId, anotherUserId));
  }

  record(profileId, eventTitle, userId, accountId, properties, userAttributes, accountAttributes) {
    return settle(() => this.#core.record(profileId, eventTitle, userId, accountId, properties, userAttributes, accountAttributes));
  }

  optIn() {
    return settle(() => this.#core.optIn());
  }

  optOut() {
    return settle(() => this.#core.optOut());
  }

  consents(profileId, action, validUntil, email, message) {
    return promised(() => this.#core.consent(profileId, action, undefined, validUntil, email, message, false));
  }

  consent(profileId, action, category, validUntil, email, message) {
    return promised(() => this.#core.consent(profileId, action, category, validUntil, email, message, true));
  }

  choosePersonalizationsByGroups(profileId, groups) {
    return promised(() => this.#core.choose(profileId, groups, false, false));
  }

  choosePersonalizationsByNames(profileId, names) {
    return promised(() => this.#core.choose(profileId, names, false, true));
  }

  chooseExperimentsByGroups(profileId, groups) {
    return promised(() => this.#core.choose(profileId, groups, true, false));
  }

  chooseExperimentsByNames(profileId, names) {
    return promised(() => this.#core.choose(profileId, names, true, true));
  }

  flush() {
    return promised(() => this.#core.flush());
  }

  // One redelivery; its `reason` leads with the status (`HTTP 400: …`) when
  // the server answered.
  async #redeliver(body, attempts, maxDelayMs) {
    return this.#core.redeliver(body, attempts, maxDelayMs);
  }

  async redeliver(message, options) {
    const { maxRetryDelayMs } = redeliveryOptions(options);
    let attempts = 1;
    try {
      if (options?.attempts !== undefined) attempts = options.attempts;
    } catch {}
    if (!Number.isInteger(attempts) || attempts < 1) {
      throw new IntemptError("INVALID_ARGUMENT", "attempts must be a positive integer: the deliveries so far, this one included");
    }
    return this.#redeliver(message, attempts, maxRetryDelayMs);
  }

  async handleQueueBatch(batch, options) {
    const { maxRetryDelayMs } = redeliveryOptions(options);
    let messages;
    try {
      messages = batch.messages;
      if (!Array.isArray(messages) || messages.length > MAX_QUEUE_BATCH) messages = undefined;
      else messages = Array.from(messages);
    } catch {}
    if (messages === undefined) {
      throw new IntemptError("INVALID_ARGUMENT", "batch must be the MessageBatch your Worker's queue() handler received");
    }
    const summary = { delivered: 0, retried: 0, dropped: 0, reasons: [] };
    const drop = (reason) => {
      summary.dropped++;
      summary.reasons.push(reason);
      warnDropped(reason);
    };
    const one = async (message) => {
      let body, attempts;
      try {
        body = message.body;
        attempts = message.attempts;
      } catch {
        drop("the queue message threw when read");
        return;
      }
      const result = await this.#redeliver(body, Number.isInteger(attempts) && attempts > 0 ? attempts : 1, maxRetryDelayMs);
      try {
        if (result.outcome === "retry") {
          summary.retried++;
          message.retry({ delaySeconds: Math.ceil(result.retryAfterMs / 1000) });
          return;
        }
        if (result.outcome === "dropped") drop(result.reason);
        else summary.delivered++;
        message.ack();
      } catch {}
    };
    // At most maxConcurrentRequests messages in flight: a few workers, each
    // taking the next message when its last one is done. Each awaits only
    // its own requests, within this call (on Workers, within this
    // invocation's request context).
    let next = 0;
    const worker = async () => {
      while (next < messages.length) await one(messages[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(this.#core.maxConcurrentRequests, messages.length) }, worker));
    return summary;
  }

  async handleKvMessage(value, kv, options) {
    const { maxRetryDelayMs, maxAttempts } = redeliveryOptions(options);
    const stored = kvBatch(value);
    if (stored === undefined) return false;
    const attempts = stored.attempts + 1;
    const result = await this.#redeliver(stored.body, attempts, maxRetryDelayMs);
    if (result.outcome === "dropped") {
      warnDropped(result.reason);
    } else if (result.outcome === "retry") {
      if (attempts >= maxAttempts) {
        warnDropped(`gave up after ${attempts} deliveries (maxAttempts); the last: ${result.reason}`);
      } else {
        // If this throws, Deno delivers the original message again (its own backoff).
        await kv.enqueue(kvValue(stored.bytes, attempts), { delay: result.retryAfterMs });
      }
    }
    return true;
  }

  close() {
    return promised(() => this.#core.close());
  }

  stats() {
    try {
      return this.#core.stats();
    } catch {
      return { queued: 0, inFlight: 0, delivered: 0, dropped: 0, optedOut: 0, stored: 0, filtered: 0, filterFailed: 0 };
    }
  }

  // The API key lives in wasm memory; nothing here prints it.
  toJSON() {
    return { sdk: "intempt-edge" };
  }

  toString() {
    return "[object SDK]";
  }

  [Symbol.for("nodejs.util.inspect.custom")]() {
    return "SDK { intempt-edge }";
  }
}
