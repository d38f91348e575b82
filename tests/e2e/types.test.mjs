// The TypeScript declarations: a file using every method and option with its
// documented types passes `tsc --noEmit`; a file with wrong types fails, with
// an error on exactly the lines marked `expect-error`.
import assert from "node:assert/strict";
import { cpSync, readFileSync } from "node:fs";
import { before, test } from "node:test";
import { join } from "node:path";

import { prepareApp, ROOT, run, tool } from "./harness.mjs";

let app;
const tsc = (file) =>
  run(
    tool("tsc"),
    [
      "--noEmit",
      "--strict",
      "--target",
      "es2022",
      "--module",
      "nodenext",
      "--moduleResolution",
      "nodenext",
      "--lib",
      "es2022,dom",
      "--skipLibCheck",
      "false",
      file,
    ],
    { cwd: app },
  );

before(async () => {
  app = await prepareApp("types");
  cpSync(join(ROOT, "tests", "e2e", "types"), join(app, "types"), { recursive: true });
});

test("every method with its documented types type-checks", async () => {
  const result = await tsc("types/ok.ts");
  assert.equal(result.code, 0, result.stdout + result.stderr);
});

test("wrong types fail, on exactly the marked lines", async () => {
  const result = await tsc("types/bad.ts");
  assert.notEqual(result.code, 0, "tsc accepted wrong types");
  const reported = new Set([...result.stdout.matchAll(/^types\/bad\.ts\((\d+),\d+\): error/gm)].map((m) => Number(m[1])));
  const expected = new Set(
    readFileSync(join(app, "types", "bad.ts"), "utf8")
      .split("\n")
      .flatMap((line, i) => (line.includes("// expect-error") ? [i + 1] : [])),
  );
  assert.deepEqual(
    [...reported].sort((a, b) => a - b),
    [...expected].sort((a, b) => a - b),
    result.stdout,
  );
});
