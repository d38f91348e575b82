// Types of `intempt-edge/testing`: a recorder for your own tests.

/** One injected misbehaviour (the local ingest server's fault format). */
export type Fault =
  | { ok: true }
  | {
      /** Answer this status (200–599) instead of checking the request. */
      status?: number;
      /** `Retry-After`: seconds (`"2"` or `2`) or `"http-date:+<seconds>"` (an HTTP date that far ahead). */
      retryAfter?: string | number;
      /** A custom body (string → text/plain, else JSON); default `{"errors":[{"message":"injected <status>"}]}` for ≥ 400. */
      body?: unknown;
      headers?: Record<string, string>;
      /** With a 3xx status: the `Location` header (a path such as "/moved"). */
      location?: string;
      /** Wait this long first (0–600000 ms); an abort meanwhile rejects with the signal's reason. */
      delayMs?: number;
      /** Never answer (until the caller aborts). Stands alone. */
      hang?: true;
      /** A network error (TypeError): "before" stores nothing; "mid" stores the request first, as if the answer were lost. */
      drop?: "before" | "mid";
    };

export interface FaultPlan {
  /** Taken one per request, in order. */
  queue?: Fault[];
  /** When the queue is empty: fault with `probability`, a mode picked by a PRNG seeded with `seed`, at most `maxFaults` times. */
  random?: { seed: number; probability: number; modes: Fault[]; maxFaults?: number } | null;
}

/** An accepted track item. */
export interface RecordedEvent {
  /** The event title ("Identify" for identify/group/alias). */
  name: string;
  item: {
    eventId: string;
    timestamp: number;
    profileId: string;
    userId?: string;
    accountId?: string;
    data?: Record<string, unknown>;
    userAttributes?: Record<string, unknown>;
    accountAttributes?: Record<string, unknown>;
    anotherUserId?: string;
  };
  organization: string;
  project: string;
  sourceId: string;
  requestId: number;
  receivedAt: number;
}

/** Every request the recorder saw, refused and faulted ones included. */
export interface RecordedRequest {
  id: number;
  method: string;
  /** The raw path (percent-encoding kept). */
  path: string;
  /** The query (`apiKey` → "[redacted]"). */
  query: Record<string, string | string[]>;
  /** The headers, lower-case; `authorization`, `proxy-authorization` and `cookie` → "[redacted]". */
  headers: Record<string, string>;
  body: string | null;
  /** `null` when never answered (hang, drop "before", abort). */
  status: number | null;
  /** Why it was refused or faulted, else null. */
  error: string | null;
  authMode: "header" | "query" | "both" | null;
  kind: "track" | "consents" | "choose" | "unknown";
  fault: Fault | null;
  receivedAt: number;
}

/** An accepted consent or choose body. */
export interface RecordedBody {
  body: Record<string, unknown>;
  organization: string;
  project: string;
  requestId: number;
  receivedAt: number;
}

export interface RecorderOptions {
  /** The key requests must carry. Default "test-id.test-secret". */
  apiKey?: string;
  /** When given, paths (and consent/choose `sourceId`s) must match. */
  organization?: string;
  project?: string;
  sourceId?: string;
  /** Larger bodies get 413. Default 5 MiB. */
  maxBodyBytes?: number;
  /** What choose answers (`{"choices": <this>}`). */
  choices?: unknown;
  /** Accept choose names outside `^[a-zA-Z0-9_-]*$` (default false: 400, as the API answers). */
  anyChooseNames?: boolean;
}

/** A `fetch` for the SDK's `fetch` option that checks, answers and records like Intempt. */
export interface Recorder {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  events(): RecordedEvent[];
  requests(): RecordedRequest[];
  consents(): RecordedBody[];
  chooses(): RecordedBody[];
  /** Forgets every request, event, consent, choose and fault; choices back to the start value. */
  reset(): void;
  /** Replaces the fault plan. Throws on a malformed plan, with every reason. */
  setFaults(plan: FaultPlan): void;
  /** Appends faults for the next requests, one each. */
  failNext(...faults: Fault[]): void;
  setChoices(choices: unknown): void;
}

/** The key the recorder accepts by default: "test-id.test-secret". */
export declare const TEST_API_KEY: string;

export declare function createRecorder(options?: RecorderOptions): Recorder;
