// The public JavaScript API: a thin class over the wasm `Core`. It only maps
// the seed SDK's method names onto the core and turns synchronous errors into
// rejected promises (the seed API is `await`ed): every method but stats()
// returns a promise and none throws (only the constructor does, with an
// IntemptError). Every rule lives in Rust.
import { Core, configure } from "./intempt_edge.js";

/** The error every refused call rejects with; `code` is stable (see README). */
export class IntemptError extends Error {
  constructor(code, message, status) {
    super(message);
    this.name = "IntemptError";
    this.code = code;
    if (status !== undefined) this.status = status;
  }
}

let defaultWaitUntil;

/** Called once by each runtime entry after the wasm is instantiated. */
export function configureRuntime({ waitUntil, fetch } = {}) {
  configure(IntemptError, fetch);
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
  #core;

  constructor(organization, project, apiKey, sourceId, batchTimeMs, maxBatchSize, options) {
    this.#core = new Core(organization, project, apiKey, sourceId, batchTimeMs, maxBatchSize, options);
    if (typeof defaultWaitUntil === "function") this.#core.useDefaultWaitUntil(defaultWaitUntil);
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
    return settle(() =>
      this.#core.record(profileId, eventTitle, userId, accountId, properties, userAttributes, accountAttributes),
    );
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

  close() {
    return promised(() => this.#core.close());
  }

  stats() {
    try {
      return this.#core.stats();
    } catch {
      return { queued: 0, inFlight: 0, delivered: 0, dropped: 0, optedOut: 0 };
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
