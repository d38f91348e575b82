// Prints (without a newline) the version of the crate whose Cargo.toml is
// MANIFEST, read from `cargo metadata --format-version 1` JSON on stdin; falls
// back to the first package if no package has that manifest path.
//
//   cargo metadata --no-deps --format-version 1 --manifest-path Cargo.toml |
//     node scripts/crate-version.mjs "$PWD/Cargo.toml"
import { readFileSync } from "node:fs";

const manifest = process.argv[2];
const meta = JSON.parse(readFileSync(0, "utf8"));
const pkg = meta.packages.find((p) => p.manifest_path === manifest) ?? meta.packages[0];
process.stdout.write(pkg.version);
