// Deno: run the scenario against the endpoint in the arguments, print JSON.
import { SDK, IntemptError } from "intempt-edge";
import { basic } from "./scenario.js";

const [endpoint, apiKey, runtime] = Deno.args;
console.log(JSON.stringify(await basic(SDK, IntemptError, { endpoint, apiKey, runtime })));
