// What each registry would receive: the crate ships what a Rust user builds
// plus both licence texts, the npm tarball ships the package plus both
// licence texts, and both name the same repository. `cargo publish
// --dry-run` and `npm pack --dry-run` run as a release would run them.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { ROOT, run, tarball } from "./harness.mjs";

const LICENCES = {
  "LICENSE-MIT": /Permission is hereby granted, free of charge/,
  "LICENSE-APACHE": /Apache License\s+Version 2\.0, January 2004[\s\S]*END OF TERMS AND CONDITIONS/,
};

function crateMetadata() {
  const out = execFileSync("cargo", ["metadata", "--no-deps", "--format-version", "1"], { cwd: ROOT, encoding: "utf8" });
  return JSON.parse(out).packages.find((p) => p.name === "intempt-edge");
}

test("the crate ships its sources (Rust, and the JavaScript modules the wasm imports), README, CHANGELOG and both licence texts, nothing else", async () => {
  const listed = await run("cargo", ["package", "--list", "--allow-dirty", "-p", "intempt-edge"], { timeoutMs: 120_000 });
  assert.equal(listed.code, 0, listed.stderr);
  const files = listed.stdout.trim().split("\n").sort();
  const sources = execFileSync("git", ["ls-files", "src"], { cwd: ROOT, encoding: "utf8" })
    .trim()
    .split("\n")
    .filter((f) => f.endsWith(".rs") || f.endsWith(".js"));
  assert.ok(sources.includes("src/wasm/host.js"), "the wasm's JavaScript helpers are among the sources");
  for (const source of sources) assert.ok(files.includes(source), `${source} is not packaged`);
  // Cargo adds Cargo.toml.orig, its lockfile and (in a git checkout) .cargo_vcs_info.json itself.
  const cargoOwn = new Set(["Cargo.toml.orig", "Cargo.lock", ".cargo_vcs_info.json"]);
  const rest = files.filter((f) => !sources.includes(f) && !cargoOwn.has(f));
  assert.deepEqual(rest, ["CHANGELOG.md", "Cargo.toml", "LICENSE-APACHE", "LICENSE-MIT", "README.md", "build.rs"]);
  for (const [file, text] of Object.entries(LICENCES)) assert.match(readFileSync(join(ROOT, file), "utf8"), text, file);

  const meta = crateMetadata();
  assert.equal(meta.license, "MIT OR Apache-2.0");
  assert.match(meta.repository ?? "", /^https:\/\/\S+$/, "Cargo.toml names the repository");
  assert.match(meta.documentation ?? "", /^https:\/\/\S+$/, "Cargo.toml names the documentation");
});

test("cargo publish --dry-run builds the packaged crate for wasm32 and the host", { timeout: 600_000 }, async () => {
  for (const target of [[], ["--target", "wasm32-unknown-unknown"]]) {
    const result = await run("cargo", ["publish", "--dry-run", "--allow-dirty", "-p", "intempt-edge", ...target], { timeoutMs: 580_000 });
    assert.equal(result.code, 0, `cargo publish --dry-run ${target.join(" ")}:\n${result.stderr}`);
    assert.match(result.stderr, /aborting upload due to dry run/);
  }
});

test("the npm tarball ships the package, its README and both licence texts; npm pack --dry-run agrees", async () => {
  const tgz = tarball();
  const files = execFileSync("tar", ["-tzf", tgz], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((f) => f.replace(/^package\//, ""))
    .sort();
  for (const name of ["README.md", "LICENSE-MIT", "LICENSE-APACHE", "package.json", "index.d.ts", "intempt_edge_bg.wasm", "sdk.js", "node.js"]) {
    assert.ok(files.includes(name), `${name} missing from ${tgz}`);
  }
  const unexpected = files.filter((f) => !/^[\w.-]+\.(js|d\.ts|wasm|json|md)$/.test(f) && !/^LICENSE-(MIT|APACHE)$/.test(f));
  assert.deepEqual(unexpected, [], "nothing but the package's own files (no folders, sources or tests)");
  for (const [file, text] of Object.entries(LICENCES)) {
    const shipped = execFileSync("tar", ["-xOzf", tgz, `package/${file}`], { encoding: "utf8" });
    assert.match(shipped, text, file);
  }

  const dry = await run("npm", ["pack", "--dry-run", "--json", join(ROOT, "pkg")], { timeoutMs: 120_000 });
  assert.equal(dry.code, 0, dry.stderr);
  const [pack] = JSON.parse(dry.stdout);
  assert.deepEqual(pack.files.map((f) => f.path).sort(), files);

  const pkg = JSON.parse(execFileSync("tar", ["-xOzf", tgz, "package/package.json"], { encoding: "utf8" }));
  const repository = crateMetadata().repository;
  assert.equal(pkg.repository.url, `git+${repository}.git`, "npm and the crate name the same repository");
  assert.equal(pkg.license, "MIT OR Apache-2.0");
  const readme = execFileSync("tar", ["-xOzf", tgz, "package/README.md"], { encoding: "utf8" });
  assert.ok(readme.includes(`${repository}#readme`), "the npm README links to the full README");
});
