// Every method and option with its documented types: must type-check.
import { SDK, IntemptError, type FlushReport, type Choice, type SDKStats, type Outbox, type QueueBatchSummary, type Redelivery, type IntemptEvent } from "intempt-edge";

const intempt = new SDK("demo-organization", "demo-project", "id.secret", "616010376811536384", 100, 20, {
  endpoint: "http://127.0.0.1:8787",
  authMode: "header",
  fetch: (input, init) => fetch(input, init),
  waitUntil: (promise) => void promise,
  flushDeadlineMs: 10_000,
  requestTimeoutMs: 4_000,
  chooseTimeoutMs: 2_500,
  maxQueueSize: 10_000,
  maxEventBytes: 32_768,
  maxBatchBytes: 262_144,
});
const fromObject = new SDK({ organization: "o", project: "p", apiKey: "id.secret", sourceId: "1", batchTimeMs: 50, authMode: "query" });
const seedForm = new SDK("o", "p", "id.secret", "1");
const fifthOptions = new SDK("o", "p", "id.secret", "1", { endpoint: "http://127.0.0.1:8080", batchTimeMs: 50, maxBatchSize: 10 });

async function all(): Promise<void> {
  await intempt.identify("1845348", "john@example.com");
  await intempt.identify("1845348", "john@example.com", "Identify User", { country: "USA", when: new Date(), nested: { list: [1, "a", null] } });
  await intempt.group("1845348", "intempt.com", "Identify Account", { company_country: "USA" });
  await intempt.track("1845348", "Purchase", { purchase_amount: 50.0, product_name: "Shoes", coupon: undefined });
  await intempt.track("1845348", "Purchase");
  await intempt.alias("1845348", "john@example.com", "555-555-1234");
  await intempt.record("1845348", "Purchase", "john@example.com", undefined, { purchase_amount: 50.0 }, { country: "USA" }, { company_country: "USA" });
  await intempt.optIn();
  await intempt.optOut();
  await intempt.consents("1845348", "accept", "1711705256000", "john@example.com", "consents message");
  await intempt.consent("1845348", "reject", "GDPR", 1711705256000);
  const choices: Choice[] = await intempt.choosePersonalizationsByGroups("1845348", ["banner"]);
  await intempt.choosePersonalizationsByNames("1845348");
  await intempt.chooseExperimentsByGroups("1845348");
  await intempt.chooseExperimentsByNames("1845348", ["new year banner"]);
  const report: FlushReport = await intempt.flush();
  const delivered: number = report.delivered + report.failed + report.dropped + report.pending;
  const reasons: Array<"failed" | "dropped" | "stored"> = report.reasons.map((r) => r.fate);
  const outbox: Outbox = { maxMessageBytes: 64_000, store: async (messages: string[]) => void messages };
  const withOutbox = new SDK("o", "p", "id.secret", "1", 100, 20, { outbox, flushDeadlineMs: 2_000 });
  const summary: QueueBatchSummary = await withOutbox.handleQueueBatch({ messages: [] }, { maxRetryDelayMs: 5_000 });
  const ours: boolean = await withOutbox.handleKvMessage({}, { enqueue: async () => ({}), listenQueue: async () => {} }, { maxAttempts: 10 });
  const verdict: Redelivery = await withOutbox.redeliver('{"track":[]}', { attempts: 2 });
  const stored: number = report.stored + seedForm.stats().stored + fifthOptions.stats().stored + (verdict.retryAfterMs ?? 0);
  void [summary, ours, stored];
  const hook = (event: IntemptEvent): IntemptEvent | null => {
    if (event.profileId.endsWith("-test")) return null;
    const { email, ...data } = event.data ?? {};
    void email;
    return { ...event, data: { ...data, region: "eu" }, userAttributes: event.userAttributes };
  };
  const hooked = new SDK("o", "p", "id.secret", "1", { beforeSend: hook });
  const dropped: number = hooked.stats().filtered + hooked.stats().filterFailed;
  void dropped;
  const closed: FlushReport = await fromObject.close();
  const stats: SDKStats = seedForm.stats();
  void [choices, delivered, reasons, closed, stats];
  try {
    await intempt.track("", "x");
  } catch (error) {
    if (error instanceof IntemptError) {
      const code: "INVALID_ARGUMENT" | string = error.code;
      const status: number | undefined = error.status;
      void [code, status];
    }
  }
}
void all;
