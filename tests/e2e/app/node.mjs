// Node and Bun: run the scenario against the endpoint in argv, print JSON.
import { SDK, IntemptError } from "intempt-edge";
import { basic } from "./scenario.js";

const [endpoint, apiKey, runtime] = process.argv.slice(2);
console.log(JSON.stringify(await basic(SDK, IntemptError, { endpoint, apiKey, runtime })));
