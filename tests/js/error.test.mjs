// The package's IntemptError (pkg-template/error.js) and the coded Error
// src/wasm/host.js makes without it agree on everything a caller reads.
//   node --test tests/js/*.test.mjs
import assert from "node:assert/strict";
import { test } from "node:test";

import { makeError } from "../../src/wasm/host.js";
import { IntemptError } from "../../pkg-template/error.js";

const shape = (e) => ({
  isError: e instanceof Error,
  name: e.name,
  code: e.code,
  message: e.message,
  status: e.status,
  hasStatus: Object.hasOwn(e, "status"),
  ownKeys: Object.keys(e).sort(),
});

test("makeError's fallback is shaped as IntemptError, with and without a status", () => {
  for (const [code, message, status] of [
    ["INVALID_ARGUMENT", "profileId must be a string", undefined],
    ["HTTP_ERROR", "HTTP 400: bad event", 400],
  ]) {
    const made = makeError(undefined, code, message, status);
    assert.deepEqual(shape(made), shape(new IntemptError(code, message, status)));
  }
});

test("makeError uses IntemptError itself when given it", () => {
  const made = makeError(IntemptError, "CLOSED", "closed", undefined);
  assert.ok(made instanceof IntemptError);
  assert.deepEqual(shape(made), shape(new IntemptError("CLOSED", "closed")));
});
