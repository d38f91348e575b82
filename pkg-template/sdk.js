// The public JavaScript API: a thin class over the wasm `Core`. It only maps
// the seed SDK's method names onto the core and turns synchronous errors into
// rejected promises (the seed API is `await`ed): every method but stats()
// returns a promise and none throws (only the constructor does, with an
// IntemptError; stats() answers at once, and throws only if the wasm itself
// has failed). Every rule about events, requests and answers lives in Rust;
// the outbox's consumers (outbox.js, its one JavaScript home) carry the core's
// verdict on a stored batch out on each platform's queue.
import { IntemptError } from "./error.js";
import { Core, configure } from "./intempt_edge.js";
import { adaptOutbox, kvMessage, queueBatch, redeliverMessage } from "./outbox.js";

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

export class SDK {
  // Its own name survives minification (scripts/build.sh keeps no others).
  static name = "SDK";
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

  // The outbox's consumers (outbox.js) redeliver through this client's core.
  redeliver(message, options) {
    return redeliverMessage(this.#core, message, options);
  }

  handleQueueBatch(batch, options) {
    return queueBatch(this.#core, batch, options);
  }

  handleKvMessage(value, kv, options) {
    return kvMessage(this.#core, value, kv, options);
  }

  close() {
    return promised(() => this.#core.close());
  }

  // The core's counters, read as they are: no JavaScript copy of their names.
  // It cannot throw unless the wasm itself has failed, and then a zeroed
  // stand-in would hide that (a bug to report, not a state to paper over).
  stats() {
    return this.#core.stats();
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
