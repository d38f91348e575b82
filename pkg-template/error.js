// The package's error class, in a module of its own so that the one other
// place that makes such errors can be held to it: src/wasm/host.js's
// makeError, for a core with no class configured (or one that throws), makes
// a plain Error shaped the same; tests/js/error.test.mjs compares the two.
// scripts/build.sh bundles this module into sdk.js.

/** The error every refused call rejects with; `code` is stable (see README). */
export class IntemptError extends Error {
  // Its own name survives minification (scripts/build.sh keeps no others).
  static name = "IntemptError";
  constructor(code, message, status) {
    super(message);
    this.name = "IntemptError";
    this.code = code;
    if (status !== undefined) this.status = status;
  }
}
