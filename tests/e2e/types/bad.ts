// Wrong types: tsc must report an error on every line marked `expect-error`
// (and nowhere else).
import { SDK, type IntemptEvent } from "intempt-edge";

const intempt = new SDK("o", "p", "id.secret", "1");
new SDK("o", "p", "id.secret"); // expect-error: sourceId is required
new SDK("o", "p", "id.secret", "1", "100"); // expect-error: batchTimeMs is a number
new SDK("o", "p", "id.secret", "1", 100, 20, { endpont: "x" }); // expect-error: unknown option
new SDK("o", "p", "id.secret", "1", 100, 20, { authMode: "cookie" }); // expect-error: authMode
new SDK({ organization: "o", project: "p", apiKey: "k" }); // expect-error: sourceId missing
intempt.identify(1845348, "john@example.com"); // expect-error: ids are strings
intempt.identify("1845348"); // expect-error: userId is required
intempt.track("1845348", "Purchase", "not an object"); // expect-error: properties are an object
intempt.track("1845348", "Purchase", { f: () => 1 }); // expect-error: functions are not JSON
intempt.track("1845348", "Purchase", { n: 10n }); // expect-error: BigInt is not JSON
intempt.alias("1845348", "john@example.com"); // expect-error: anotherUserId is required
intempt.record("1845348", "Purchase", "u", "a", [1, 2]); // expect-error: properties are an object
intempt.consents("1845348", "maybe"); // expect-error: action is accept | reject
intempt.consent("1845348", "accept"); // expect-error: category is required
intempt.choosePersonalizationsByGroups("1845348", "banner"); // expect-error: groups are an array
intempt.chooseExperimentsByNames("1845348", [1, 2]); // expect-error: names are strings
const n: number = intempt.flush(); // expect-error: flush returns a promise
const s: string = (await intempt.flush()).delivered; // expect-error: delivered is a number
new SDK("o", "p", "id.secret", "1", 100, 20, { outbox: 42 }); // expect-error: outbox is an object
intempt.handleKvMessage({}); // expect-error: the Deno.Kv is required
new SDK("o", "p", "id.secret", "1", { beforeSend: async (e: IntemptEvent) => e }); // expect-error: beforeSend is synchronous
new SDK("o", "p", "id.secret", "1", { beforeSend: (e: IntemptEvent) => ({ ...e, profileId: 1 }) }); // expect-error: profileId is a string
new SDK("o", "p", "id.secret", "1", { beforeSend: () => undefined }); // expect-error: return the event or null
