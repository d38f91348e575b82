// The README's snippets are the tested code: a fenced block preceded by
//   <!-- snippet: examples/<path> -->
// must be that file exactly, whole or less its opening comment (the lines
// before the code that start with `//` or `#`). The examples are run by the test
// command (examples, nextjs, hono and workers-rs suites), so a snippet that
// drifts from them fails here. Every quick start listed in REQUIRED has one.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { ROOT } from "./harness.mjs";

const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** [{ path, code, line }] for every marked block. */
function markedSnippets(markdown) {
  const lines = markdown.split("\n");
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!-- snippet: (\S+) -->$/.exec(lines[i]);
    if (!marker) continue;
    assert.match(lines[i + 1] ?? "", /^```\w*$/, `README line ${i + 1}: a snippet marker must be followed by a fence`);
    const end = lines.indexOf("```", i + 2);
    assert.ok(end > i, `README line ${i + 1}: unclosed block`);
    out.push({ path: marker[1], code: lines.slice(i + 2, end).join("\n"), line: i + 1 });
  }
  return out;
}

/** The file less its opening comment lines and the blank lines after them. */
function withoutHeader(text) {
  const lines = text.replace(/\s+$/, "").split("\n");
  let start = 0;
  while (start < lines.length && /^\s*(\/\/|#)/.test(lines[start])) start++;
  while (start < lines.length && lines[start].trim() === "") start++;
  return lines.slice(start).join("\n");
}

const snippets = markedSnippets(README);

test("every marked README snippet is its example file, verbatim", () => {
  assert.ok(snippets.length > 0, "no marked snippets");
  for (const { path, code, line } of snippets) {
    const file = join(ROOT, path);
    assert.ok(existsSync(file), `README line ${line}: ${path} does not exist`);
    const text = readFileSync(file, "utf8");
    const shown = code.replace(/\s+$/, "");
    if (shown !== text.replace(/\s+$/, "")) assert.equal(shown, withoutHeader(text), `README line ${line}: the snippet differs from ${path}`);
  }
});

const REQUIRED = [
  "examples/cloudflare-worker/worker.js",
  "examples/cloudflare-worker/vitest.config.js",
  "examples/cloudflare-worker/worker.test.js",
  "examples/workers-rs/src/lib.rs",
  "examples/hono/app.js",
  "examples/nextjs/lib/intempt.js",
  "examples/nextjs/app/api/track/route.js",
  "examples/nextjs/proxy.js",
];

test("each quick start shows its example's code", () => {
  const shown = new Set(snippets.map((s) => s.path));
  for (const path of REQUIRED) assert.ok(shown.has(path), `README has no snippet of ${path}`);
});
