// The public JavaScript API: a thin class over the wasm `Core`. It only maps
// the seed SDK's method names onto the core and turns synchronous errors into
// rejected promises (the seed API is `await`ed); every rule lives in Rust.
import { Core, setErrorClass } from "./intempt_edge.js";

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
export function configureRuntime({ waitUntil } = {}) {
  setErrorClass(IntemptError);
  defaultWaitUntil = waitUntil;
}

function settle(call) {
  try {
    call();
    return Promise.resolve();
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
    return this.#core.consent(profileId, action, undefined, validUntil, email, message, false);
  }

  consent(profileId, action, category, validUntil, email, message) {
    return this.#core.consent(profileId, action, category, validUntil, email, message, true);
  }

  choosePersonalizationsByGroups(profileId, groups) {
    return this.#core.choose(profileId, groups, false, false);
  }

  choosePersonalizationsByNames(profileId, names) {
    return this.#core.choose(profileId, names, false, true);
  }

  chooseExperimentsByGroups(profileId, groups) {
    return this.#core.choose(profileId, groups, true, false);
  }

  chooseExperimentsByNames(profileId, names) {
    return this.#core.choose(profileId, names, true, true);
  }

  flush() {
    return this.#core.flush();
  }

  close() {
    return this.#core.close();
  }

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
