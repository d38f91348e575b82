// Drops whole-line `//` comments from the inline JS snippets wasm-bindgen
// copies into pkg/snippets/ (from src/wasm/js.rs): they explain the code to
// its readers in the Rust source and cost every Worker ~0.7 KiB gzip to load.
// Only whole lines go, so no string can be cut; a file holding a template
// literal (which may span lines) is left as it is.
//
//   node scripts/strip-snippet-comments.mjs pkg/snippets
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const walk = (dir) =>
  readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));

for (const file of walk(process.argv[2]).filter((f) => f.endsWith(".js"))) {
  const lines = readFileSync(file, "utf8").split("\n");
  const comment = (line) => /^\s*\/\//.test(line);
  if (lines.some((line) => !comment(line) && line.includes("`"))) continue;
  writeFileSync(file, lines.filter((line) => !comment(line)).join("\n"));
}
