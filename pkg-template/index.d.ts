/**
 * intempt-edge: Intempt's server-side SDK for Cloudflare Workers, Deno, Bun
 * and Node. The API is that of Intempt's Node.js SDK (`new SDK(...)`,
 * `identify`, `track`, …) plus `flush()`, `close()` and typed errors.
 */

/** A JSON value that can be sent faithfully. `Date`s are sent as ISO strings. */
export type JsonValue = string | number | boolean | null | Date | JsonValue[] | { [key: string]: JsonValue | undefined };

/** Event properties or attributes: a plain object of JSON values (keys whose value is `undefined` are left out). */
export type Properties = { [key: string]: JsonValue | undefined };

/** The stable error codes; see the README's table. */
export type IntemptErrorCode =
  | "INVALID_CONFIG"
  | "INVALID_API_KEY"
  | "INVALID_ENDPOINT"
  | "INVALID_ARGUMENT"
  | "RESERVED_TITLE"
  | "ATTRIBUTES_NEED_TITLE"
  | "INVALID_PROPERTIES"
  | "INVALID_ACTION"
  | "EVENT_TOO_LARGE"
  | "QUEUE_FULL"
  | "CLOSED"
  | "HTTP_ERROR"
  | "NETWORK_ERROR";

/** What every refused call rejects with (and the constructor throws). */
export declare class IntemptError extends Error {
  readonly name: "IntemptError";
  /** Stable: branch on it. */
  readonly code: IntemptErrorCode;
  /** The server's HTTP status, for `HTTP_ERROR`. */
  readonly status?: number;
}

/** Options beyond the seed SDK's six constructor fields. */
export interface SDKOptions {
  /** Base URL of Intempt's API (default `https://api.intempt.com`); a path prefix before `/v1` is allowed. Plain `http://` only to loopback. */
  endpoint?: string;
  /** How the API key travels: `"header"` (default, `Authorization: Basic`) or `"query"` (`?apiKey=`, exactly as the 1.x SDK sent it). */
  authMode?: "header" | "query";
  /** A `fetch` to send with (called with `redirect: "manual"`). Default: in Node, `node:http`/`node:https` with a keep-alive agent; elsewhere (Bun, Deno, Workers) the global `fetch`. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Keeps background flushes alive after the response (e.g. `ctx.waitUntil.bind(ctx)`). By default: on Cloudflare Workers the runtime's own; on Vercel the current request's, from the platform's request context. */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** One flush ends within this many ms (default 10000, under Cloudflare's 30 s waitUntil window). */
  flushDeadlineMs?: number;
  /** Timeout of one tracking request in ms (default 4000). */
  requestTimeoutMs?: number;
  /** Timeout of one consent or choose request in ms (default 2500; at most one retry). */
  chooseTimeoutMs?: number;
  /** Undelivered events held at most (default 10000); beyond it calls reject with `QUEUE_FULL`. */
  maxQueueSize?: number;
  /** Largest single event in bytes of JSON (default 32768); larger calls reject with `EVENT_TOO_LARGE`. */
  maxEventBytes?: number;
  /** Largest request body in bytes (default 262144). */
  maxBatchBytes?: number;
  /** Tracking requests in flight at once, across flushes (default 4, from 1 to 6). A burst's batches leave in parallel, and may arrive in any order; 1 sends them one after another. */
  maxConcurrentRequests?: number;
  /** Log one line per request and outcome (and per flush) with `console.log`. The API key is never logged. */
  debug?: boolean;
  /** Receives the same lines as `debug` instead of `console.log`, and the warnings instead of `console.warn`. */
  logger?: (line: string) => void;
  /** When events cannot leave (a wrong endpoint or key, an outage, a transport or outbox that fails), one line with `console.warn` (or to `logger`) says what failed, what happens to the events and what to fix: the first failure at once, then at most one a minute, and one when deliveries resume. Never the key. Default `true`; `false` turns them off. */
  warnings?: boolean;
  /** Where a flush puts the batches it could not deliver before its deadline, so they outlive the isolate or process: a Cloudflare Queue producer binding, a `Deno.Kv`, or an {@link Outbox}. A consumer resends them: {@link SDK.handleQueueBatch}, {@link SDK.handleKvMessage}. */
  outbox?: Outbox | CloudflareQueue | DenoKv;
  /** Sees every recorded event (identify, group, track, alias, record) before it is queued, as a fresh plain object of its wire fields; returns it (changed or not) to send it, or `null` to drop it (counted in `stats().filtered`). Synchronous. If it throws, returns a promise, `undefined` or anything that is not a valid event, the event is dropped (counted in `stats().filterFailed`, with a warning) and the call still resolves. Not called for consents and choose calls, nor for calls it makes itself. */
  beforeSend?: (event: IntemptEvent) => IntemptEvent | null;
}

/** An event as {@link SDKOptions.beforeSend} sees and returns it: the name it is sent under and the contract's item fields (`eventId` and `timestamp` are stamped after the hook). Absent fields are left out. */
export interface IntemptEvent {
  /** The event title; `"Identify"` for identify/group without a title, and alias. */
  name: string;
  profileId: string;
  userId?: string;
  accountId?: string;
  /** An alias's other user id. */
  anotherUserId?: string;
  /** Properties of track/record. */
  data?: Properties;
  userAttributes?: Properties;
  accountAttributes?: Properties;
}

/** A durable store for batches a flush could not deliver (the interface the Queue and Deno KV adapters implement). */
export interface Outbox {
  /** Largest message in bytes of UTF-8 (at least 1024); default: no limit of its own (`maxBatchBytes` applies). */
  maxMessageBytes?: number;
  /** Stores each message (the JSON body of a track request, never holding the API key) durably; resolves once stored. If it throws, rejects or outlasts the flush deadline, the events stay in memory. */
  store(messages: string[]): Promise<unknown>;
}

/** The part of a Cloudflare Queue producer binding the outbox uses. */
export interface CloudflareQueue {
  send(body: unknown, options?: { contentType?: string }): Promise<unknown>;
  sendBatch(messages: Iterable<{ body: unknown; contentType?: string }>): Promise<unknown>;
}

/** The part of a `Deno.Kv` the outbox uses. */
export interface DenoKv {
  enqueue(value: unknown, options?: { delay?: number }): Promise<unknown>;
  listenQueue(handler: (value: unknown) => unknown): Promise<void>;
}

/** How a consumer redelivers stored batches. */
export interface RedeliveryOptions {
  /** Longest backoff between deliveries of a stored batch in ms (default 300000); a server's `Retry-After` is honoured up to an hour. */
  maxRetryDelayMs?: number;
  /** Deno KV only: deliveries before a stored batch is dropped with a logged reason (default 100). On Cloudflare Queues the consumer's `max_retries` decides. */
  maxAttempts?: number;
}

/** What one {@link SDK.redeliver} says to do with the message. */
export interface Redelivery {
  outcome: "delivered" | "retry" | "dropped";
  /** For `"retry"`: the server's `Retry-After`, or the backoff. */
  retryAfterMs?: number;
  /** The HTTP status, or `null` for network errors and timeouts (and for `"delivered"`, absent). */
  status?: number | null;
  /** What happened, for `"retry"` and `"dropped"`. */
  reason?: string;
}

/** What {@link SDK.handleQueueBatch} did with a batch of queue messages. */
export interface QueueBatchSummary {
  /** Messages whose batch the server accepted (acknowledged). */
  delivered: number;
  /** Messages handed back to the queue with `retry({ delaySeconds })`. */
  retried: number;
  /** Messages refused for good (acknowledged, logged with `console.warn`). */
  dropped: number;
  /** Why each dropped message was dropped. */
  reasons: string[];
}

/** The parts of Cloudflare's `MessageBatch` the consumer uses. */
export interface QueueMessageBatch {
  readonly messages: readonly {
    readonly body: unknown;
    readonly attempts: number;
    ack(): void;
    retry(options?: { delaySeconds?: number }): void;
  }[];
}

/** The constructor's fields and options as one object. */
export interface SDKConfig extends SDKOptions {
  /** Organization name. */
  organization: string;
  /** Project name. */
  project: string;
  /** API key, `identifier.secret`. */
  apiKey: string;
  /** Source id. */
  sourceId: string;
  /** Milliseconds from the first unsent event to an automatic send (default 100). */
  batchTimeMs?: number;
  /** Events per request (default 20, at most 5000). */
  maxBatchSize?: number;
}

/** Why events were not delivered. */
export interface FlushReason {
  /** `"failed"`: still queued for the next flush; `"dropped"`: refused for good; `"stored"`: handed to the outbox. */
  fate: "failed" | "dropped" | "stored";
  /** What kind of failure (a report has one reason per fate and cause): `"http"` (see `status`), `"timeout"`, `"network"`, `"redirect"`, `"outboxFailed"`, `"tooLarge"`, or `"deadline"` (not sent before the flush deadline, then stored). */
  cause: "http" | "timeout" | "network" | "redirect" | "outboxFailed" | "tooLarge" | "deadline";
  /** HTTP status, or `null` for network errors and timeouts. */
  status: number | null;
  /** What happened, with the server's message when it sent one. */
  message: string;
  /** How many events this covers. */
  events: number;
}

/** What one `flush()` did. */
export interface FlushReport {
  /** Events the server acknowledged. */
  delivered: number;
  /** Events tried and not delivered; they stay queued. */
  failed: number;
  /** Events refused for good (see `reasons`). */
  dropped: number;
  /** Events still undelivered when the flush ended. */
  pending: number;
  /** Events this flush could not deliver and handed to the outbox. */
  stored: number;
  /** Requests sent again after a failure. */
  retries: number;
  /** Requests sent. */
  requests: number;
  /** Whether the flush stopped at its deadline with work left. */
  timedOut: boolean;
  /** Why events failed, were dropped or stored, one reason per fate and cause. */
  reasons: FlushReason[];
}

/** Counters over the client's life. */
export interface SDKStats {
  queued: number;
  inFlight: number;
  delivered: number;
  dropped: number;
  optedOut: number;
  /** Events handed to the outbox. */
  stored: number;
  /** Events `beforeSend` dropped (it returned `null`). */
  filtered: number;
  /** Events dropped because `beforeSend` failed (threw, returned a promise, `undefined` or an invalid event). */
  filterFailed: number;
}

/** One experiment or personalization, as the server sent it. */
export interface Choice {
  name?: string;
  group?: string;
  body?: unknown;
  [key: string]: unknown;
}

export declare class SDK {
  /**
   * The seed SDK's constructor.
   * @param organization organization name
   * @param project project name
   * @param apiKey API key (`identifier.secret`)
   * @param sourceId source id
   * @param batchTimeMs batch time in ms (default 100)
   * @param maxBatchSize max events per request (default 20)
   * @param options everything else
   * @throws IntemptError on a bad field (`INVALID_CONFIG`, `INVALID_API_KEY`, `INVALID_ENDPOINT`)
   */
  constructor(organization: string, project: string, apiKey: string, sourceId: string, batchTimeMs?: number, maxBatchSize?: number, options?: SDKOptions);
  /** The seed's four fields, then the options (batch settings included) as the fifth argument. */
  constructor(organization: string, project: string, apiKey: string, sourceId: string, options: SDKOptions & { batchTimeMs?: number; maxBatchSize?: number });
  /** The same, as one object. */
  constructor(config: SDKConfig);

  /** Connects a profile with a user id; with a title other than "Identify", may carry user attributes. Queued. */
  identify(profileId: string, userId: string, eventTitle?: string, userAttributes?: Properties): Promise<void>;
  /** Connects a profile with an account id; with a title other than "Identify", may carry account attributes. Queued. */
  group(profileId: string, accountId: string, eventTitle?: string, accountAttributes?: Properties): Promise<void>;
  /** Records a custom event. Queued. */
  track(profileId: string, eventTitle: string, properties?: Properties): Promise<void>;
  /** Merges two user identifiers into one profile. Queued. */
  alias(profileId: string, userId: string, anotherUserId: string): Promise<void>;
  /** Records an event with every field optional. Queued. */
  record(profileId: string, eventTitle: string, userId?: string, accountId?: string, properties?: Properties, userAttributes?: Properties, accountAttributes?: Properties): Promise<void>;
  /** Resumes tracking calls (the default). */
  optIn(): Promise<void>;
  /** Stops tracking calls (they are counted, not sent); consents and choose calls are unaffected. */
  optOut(): Promise<void>;
  /** Sends a consent decision for all categories at once. */
  consents(profileId: string, action: "accept" | "reject", validUntil?: string | number, email?: string, message?: string): Promise<void>;
  /** Sends a consent decision for one category at once. */
  consent(profileId: string, action: "accept" | "reject", category: string, validUntil?: string | number, email?: string, message?: string): Promise<void>;
  /** Chooses personalizations by group (all when `groups` is omitted). */
  choosePersonalizationsByGroups(profileId: string, groups?: string[]): Promise<Choice[]>;
  /** Chooses personalizations by name (all when `names` is omitted). */
  choosePersonalizationsByNames(profileId: string, names?: string[]): Promise<Choice[]>;
  /** Chooses experiments by group (all when `groups` is omitted). */
  chooseExperimentsByGroups(profileId: string, groups?: string[]): Promise<Choice[]>;
  /** Chooses experiments by name (all when `names` is omitted). */
  chooseExperimentsByNames(profileId: string, names?: string[]): Promise<Choice[]>;
  /** Sends everything queued; never rejects; resolves within `flushDeadlineMs` with what it did. On Workers: `ctx.waitUntil(sdk.flush())`. */
  flush(): Promise<FlushReport>;
  /** Resends one message an {@link Outbox} stored (the consumer of your own durable store), once, with this client's key; never rejects for the server's answer. Do what `outcome` says: `"delivered"` — done; `"retry"` — try again after `retryAfterMs`; `"dropped"` — refused for good (log `reason`). A `413` splits the batch in halves (as a flush does); halves not delivered after others were are stored again in this client's outbox as new messages (without one, the whole message is `"retry"`). */
  redeliver(message: string, options?: RedeliveryOptions & { /** Deliveries so far, this one included (default 1): the backoff grows with it. */ attempts?: number }): Promise<Redelivery>;
  /** Cloudflare Workers: the `queue(batch, env, ctx)` handler of the outbox's queue. Resends each stored batch once with this client's key (original eventIds and timestamps), at most `maxConcurrentRequests` messages at a time: acks it when delivered, `retry({ delaySeconds })` on a passing failure (`Retry-After` or backoff), acks and logs it when refused for good. */
  handleQueueBatch(batch: QueueMessageBatch, options?: RedeliveryOptions): Promise<QueueBatchSummary>;
  /** Deno: for `kv.listenQueue`. Resolves `false` for a value that is not a stored batch (handle it yourself); otherwise resends it once, enqueues it again with a delay on a passing failure, logs it when refused for good, and resolves `true`. Rejects only if enqueueing again failed (Deno then redelivers the message). */
  handleKvMessage(value: unknown, kv: DenoKv, options?: RedeliveryOptions): Promise<boolean>;
  /** Flushes, then rejects every later call with `CLOSED`. */
  close(): Promise<FlushReport>;
  /** Counters over the client's life. */
  stats(): SDKStats;
}
