// Node: the seed document's examples against the endpoint in argv.
import { SDK } from "intempt-edge";
import { seedExamples } from "./seed-examples.js";

const [endpoint, apiKey] = process.argv.slice(2);
const intempt = new SDK(
  "demo-organization", // organization name
  "demo-project", // project name
  apiKey, // api key (identifier.secret)
  "616010376811536384", // source id
  100, // batch time in milliseconds (optional)
  20, // max items batch size (optional)
  { endpoint },
);
console.log(JSON.stringify(await seedExamples(intempt)));
