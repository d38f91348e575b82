// The durable outbox on each platform, in one place: how a stored batch is
// kept on a Cloudflare Queue and in a Deno KV queue, and how a consumer reads
// it back. A stored batch is the JSON body of a track request exactly as it
// was sent (original eventIds and timestamps); it never holds the API key.
// The core decides when to store and what a redelivery's answer means; this
// file only moves strings.

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
