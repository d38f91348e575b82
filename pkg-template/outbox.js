// The durable outbox on each platform, in one place: how a stored batch is
// kept on a Cloudflare Queue and in a Deno KV queue, and how a consumer reads
// it back. A stored batch is the JSON body of a track request exactly as it
// was sent (original eventIds and timestamps); it never holds the API key.
// The core decides when to store and what a redelivery's answer means; this
// file moves strings, and checks only what is its own: the consumers'
// options (maxRetryDelayMs, maxAttempts, attempts) and the shape of the
// platform's message batch. The SDK's redeliver, handleQueueBatch and
// handleKvMessage are the consumers below, each given the client's wasm
// `Core`: core.redeliver(body, attempts, maxDelayMs) → a promise of
// { outcome: "delivered" | "retry" | "dropped", retryAfterMs, reason } (a
// reason leads with the status, `HTTP 400: …`, when the server answered).

import { IntemptError } from "./error.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Cloudflare Queues: 128 KB per message (text messages count their UTF-8
// bytes), sendBatch at most 100 messages and 256 KB; room left for framing.
const QUEUE_MESSAGE_BYTES = 120_000;
const QUEUE_BATCH_MESSAGES = 100;
const QUEUE_BATCH_BYTES = 240_000;
// Deno KV: 64 KiB per value, serialized; room left for the value's other field.
const KV_MESSAGE_BYTES = 63_000;
// The field of a Deno KV queue value that marks (and holds) a stored batch.
const KV_FIELD = "intemptEdgeBatch";

const has = (o, name) => typeof o[name] === "function";

/**
 * The `outbox` option as an object with `store(messages)` and
 * `maxMessageBytes`: a Cloudflare Queue producer binding, a `Deno.Kv`, or
 * already such an object. Anything else is returned as it is, and the core
 * refuses it with a message saying what is expected.
 */
export function adaptOutbox(value) {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return value;
  if (has(value, "store")) return value;
  if (has(value, "enqueue") && has(value, "listenQueue")) return kvOutbox(value);
  if (has(value, "sendBatch") && has(value, "send")) return queueOutbox(value);
  return value;
}

function queueOutbox(queue) {
  return {
    maxMessageBytes: QUEUE_MESSAGE_BYTES,
    async store(messages) {
      const sends = [];
      let batch = [];
      let bytes = 0;
      for (const body of messages) {
        const size = encoder.encode(body).length;
        if (batch.length === QUEUE_BATCH_MESSAGES || (batch.length > 0 && bytes + size > QUEUE_BATCH_BYTES)) {
          sends.push(queue.sendBatch(batch));
          batch = [];
          bytes = 0;
        }
        batch.push({ body, contentType: "text" });
        bytes += size;
      }
      if (batch.length > 0) sends.push(queue.sendBatch(batch));
      await Promise.all(sends);
    },
  };
}

function kvOutbox(kv) {
  return {
    maxMessageBytes: KV_MESSAGE_BYTES,
    async store(messages) {
      await Promise.all(messages.map((body) => kv.enqueue({ [KV_FIELD]: encoder.encode(body), attempts: 0 })));
    },
  };
}

/** The stored batch in a Deno KV queue value, or undefined if it is not one. */
export function kvBatch(value) {
  try {
    const bytes = value !== null && typeof value === "object" ? value[KV_FIELD] : undefined;
    if (!(bytes instanceof Uint8Array)) return undefined;
    const attempts = Number.isInteger(value.attempts) && value.attempts >= 0 ? value.attempts : 0;
    return { body: decoder.decode(bytes), bytes, attempts };
  } catch {
    return undefined;
  }
}

/** The Deno KV queue value of a stored batch after `attempts` deliveries. */
export function kvValue(bytes, attempts) {
  return { [KV_FIELD]: bytes, attempts };
}

// ---- consumers ------------------------------------------------------------

// The consumers' options: the longest backoff between redeliveries (a
// server's Retry-After is honoured up to an hour), and for Deno KV how many
// deliveries a stored batch gets before it is dropped with a logged reason
// (Cloudflare Queues count them with the consumer's max_retries).
const REDELIVERY_DEFAULTS = { maxRetryDelayMs: 300_000, maxAttempts: 100 };
// More messages than a Cloudflare consumer batch holds (100) is not one.
const MAX_QUEUE_BATCH = 10_000;
function redeliveryOptions(options) {
  const out = { ...REDELIVERY_DEFAULTS };
  if (options === undefined || options === null) return out;
  for (const name of Object.keys(out)) {
    let value;
    try {
      value = options[name];
    } catch {
      throw new IntemptError("INVALID_ARGUMENT", `options.${name} threw when read; pass a plain object`);
    }
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1) {
      throw new IntemptError("INVALID_ARGUMENT", `${name} must be a positive integer (default ${out[name]})`);
    }
    out[name] = value;
  }
  return out;
}

// A dropped stored batch is always reported: never silently.
function warnDropped(reason) {
  try {
    console.warn(`[intempt-edge] outbox: dropped a stored batch: ${reason}`);
  } catch {}
}

/** `sdk.redeliver(message, options)`: one stored batch, delivered once more. */
export async function redeliverMessage(core, message, options) {
  const { maxRetryDelayMs } = redeliveryOptions(options);
  let attempts = 1;
  try {
    if (options?.attempts !== undefined) attempts = options.attempts;
  } catch {}
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new IntemptError("INVALID_ARGUMENT", "attempts must be a positive integer: the deliveries so far, this one included");
  }
  return core.redeliver(message, attempts, maxRetryDelayMs);
}

/**
 * `sdk.handleQueueBatch(batch, options)`, Cloudflare Queues: each message
 * redelivered, at most the client's maxConcurrentRequests at once; acked
 * when delivered or dropped, retried with the core's delay.
 */
export async function queueBatch(core, batch, options) {
  const { maxRetryDelayMs } = redeliveryOptions(options);
  let messages;
  try {
    messages = batch.messages;
    if (!Array.isArray(messages) || messages.length > MAX_QUEUE_BATCH) messages = undefined;
    else messages = Array.from(messages);
  } catch {}
  if (messages === undefined) {
    throw new IntemptError("INVALID_ARGUMENT", "batch must be the MessageBatch your Worker's queue() handler received");
  }
  const summary = { delivered: 0, retried: 0, dropped: 0, reasons: [] };
  const drop = (reason) => {
    summary.dropped++;
    summary.reasons.push(reason);
    warnDropped(reason);
  };
  const one = async (message) => {
    let body, attempts;
    try {
      body = message.body;
      attempts = message.attempts;
    } catch {
      drop("the queue message threw when read");
      return;
    }
    const result = await core.redeliver(body, Number.isInteger(attempts) && attempts > 0 ? attempts : 1, maxRetryDelayMs);
    try {
      if (result.outcome === "retry") {
        summary.retried++;
        message.retry({ delaySeconds: Math.ceil(result.retryAfterMs / 1000) });
        return;
      }
      if (result.outcome === "dropped") drop(result.reason);
      else summary.delivered++;
      message.ack();
    } catch {}
  };
  // At most maxConcurrentRequests messages in flight: a few workers, each taking the
  // next message when its last one is done. Each awaits only its own
  // requests, within this call (on Workers, within this invocation's
  // request context).
  let next = 0;
  const worker = async () => {
    while (next < messages.length) await one(messages[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(core.maxConcurrentRequests, messages.length) }, worker));
  return summary;
}

/**
 * `sdk.handleKvMessage(value, kv, options)`, Deno KV: false when `value` is
 * not a stored batch; else redelivered, enqueued again with the core's delay
 * on a passing failure (until maxAttempts), dropped with a warning.
 */
export async function kvMessage(core, value, kv, options) {
  const { maxRetryDelayMs, maxAttempts } = redeliveryOptions(options);
  const stored = kvBatch(value);
  if (stored === undefined) return false;
  const attempts = stored.attempts + 1;
  const result = await core.redeliver(stored.body, attempts, maxRetryDelayMs);
  if (result.outcome === "dropped") {
    warnDropped(result.reason);
  } else if (result.outcome === "retry") {
    if (attempts >= maxAttempts) {
      warnDropped(`gave up after ${attempts} deliveries (maxAttempts); the last: ${result.reason}`);
    } else {
      // If this throws, Deno delivers the original message again (its own backoff).
      await kv.enqueue(kvValue(stored.bytes, attempts), { delay: result.retryAfterMs });
    }
  }
  return true;
}
