// Types of the two peer SDKs the benchmark's Workers import (workers/posthog-node.js,
// workers/segment.js), for the type check of the repository's JavaScript
// (tsconfig.checkjs.json). The packages are installed only in bench/node_modules, by
// bench/setup.sh for a benchmark run, not at the repository root where the check runs, so
// their own declarations are not there to resolve. This declares the part the bench uses,
// with the libraries' own signatures (posthog-node 5.70.0 and @segment/analytics-node
// 3.1.0, the versions bench/package.json pins): the constructors' options it passes and
// the methods it calls. An ambient declaration takes precedence over an installed package,
// so the check sees the same types with or without bench/node_modules.

declare module "posthog-node" {
  /** PostHogOptions: the fields the bench sets (the rest of its many options left out). */
  export interface PostHogOptions {
    /** PostHog API host. */
    host?: string;
    /** Events queued before a flush (default 20). */
    flushAt?: number;
    /** Events per request (default 100). */
    maxBatchSize?: number;
    /** The most messages kept in memory (must be higher than flushAt). */
    maxQueueSize?: number;
  }

  /** EventMessage: what capture() takes (fields the bench does not use left out). */
  export interface EventMessage {
    distinctId?: string;
    event: string;
    properties?: Record<string | number, unknown>;
  }

  export class PostHog {
    constructor(apiKey: string, options?: PostHogOptions);
    capture(props: EventMessage): void;
    flush(): Promise<void>;
    shutdown(shutdownTimeoutMs?: number): Promise<void>;
  }
}

declare module "@segment/analytics-node" {
  /** AnalyticsSettings: the fields the bench sets. */
  export interface AnalyticsSettings {
    writeKey: string;
    /** The API's base URL (default "https://api.segment.io"). */
    host?: string;
    /** The API path (default "/v1/batch"). */
    path?: string;
    /** Events queued before a flush (default 15). */
    flushAt?: number;
  }

  /** TrackParams (its context, timestamp, integrations and messageId left out). */
  export type TrackParams = {
    event: string;
    properties?: Record<string, unknown>;
  } & ({ userId: string; anonymousId?: string } | { userId?: string; anonymousId: string });

  export class Analytics {
    constructor(settings: AnalyticsSettings);
    track(params: TrackParams, callback?: (err?: unknown, ctx?: unknown) => void): void;
    closeAndFlush(params?: { timeout?: number }): Promise<void>;
    /** Its emitter: the "error" event's argument is the library's CoreEmittedError. */
    on(event: "error", callback: (error: unknown) => void): this;
  }
}
