// Node: the waitUntil option (as Vercel/Netlify edge functions pass it)
// receives the background flush; awaiting what it received delivers.
import { SDK } from "intempt-edge";

const [endpoint, apiKey, profile] = process.argv.slice(2);
const handed = [];
const sdk = new SDK("demo-organization", "demo-project", apiKey, "616010376811536384", 50, 20, {
  endpoint,
  waitUntil: (promise) => handed.push(promise),
});
for (let i = 0; i < 3; i++) await sdk.track(profile, "Page View", { i });
const handedBeforeWait = handed.length;
await Promise.all(handed);
console.log(JSON.stringify({ handedBeforeWait, handed: handed.length, stats: sdk.stats() }));
