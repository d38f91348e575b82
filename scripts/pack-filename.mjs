// Prints (without a newline) the tarball's file name from `npm pack --json`
// output on stdin, so scripts/build.sh can print the tarball's absolute path.
//
//   npm pack pkg --pack-destination target --json | node scripts/pack-filename.mjs
import { readFileSync } from "node:fs";

process.stdout.write(JSON.parse(readFileSync(0, "utf8"))[0].filename);
