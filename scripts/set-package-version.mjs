// Sets "version" in a package.json, in place (2-space JSON, trailing newline).
// scripts/build.sh uses it to stamp pkg/package.json with the crate's version.
//
//   node scripts/set-package-version.mjs pkg/package.json 0.1.0
import { readFileSync, writeFileSync } from "node:fs";

const [file, version] = process.argv.slice(2);
const json = JSON.parse(readFileSync(file, "utf8"));
json.version = version;
writeFileSync(file, JSON.stringify(json, null, 2) + "\n");
