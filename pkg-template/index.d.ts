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
  /** Keeps background flushes alive after the response (e.g. `ctx.waitUntil.bind(ctx)`). On Cloudflare Workers the runtime's own is used by default. */
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
  /** Receives the same lines as `debug` instead of `console.log`. */
  logger?: (line: string) => void;
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
  /** `"failed"`: still queued for the next flush; `"dropped"`: refused for good. */
  fate: "failed" | "dropped";
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
  /** Requests sent again after a failure. */
  retries: number;
  /** Requests sent. */
  requests: number;
  /** Whether the flush stopped at its deadline with work left. */
  timedOut: boolean;
  /** Why events failed or were dropped. */
  reasons: FlushReason[];
}

/** Counters over the client's life. */
export interface SDKStats {
  queued: number;
  inFlight: number;
  delivered: number;
  dropped: number;
  optedOut: number;
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
  /** Flushes, then rejects every later call with `CLOSED`. */
  close(): Promise<FlushReport>;
  /** Counters over the client's life. */
  stats(): SDKStats;
}
