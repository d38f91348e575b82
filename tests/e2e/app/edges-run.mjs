// Node: runs one scenario of app/edges.js and prints its result as JSON.
//   node edges-run.mjs <scenario> '<args JSON>'
import { SDK } from "intempt-edge";
import { SCENARIOS } from "./edges.js";

const [name, args] = process.argv.slice(2);
console.log(JSON.stringify(await SCENARIOS[name](SDK, JSON.parse(args))));
