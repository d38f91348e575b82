// Types for the platform APIs the tests' JavaScript uses where no types are
// installed at the root: Deno's global (the tests run files under Deno 2 as
// well as Node) and workerd's `cloudflare:workers` module. Only what the tests
// call, with the platforms' own signatures. Used by tsconfig.checkjs.json.

declare namespace Deno {
  interface KvEntry<T = unknown> {
    key: unknown[];
    value: T;
    versionstamp: string;
  }
  interface Kv {
    get<T = unknown>(key: unknown[]): Promise<{ key: unknown[]; value: T | null; versionstamp: string | null }>;
    set(key: unknown[], value: unknown, options?: { expireIn?: number }): Promise<{ ok: true; versionstamp: string }>;
    delete(key: unknown[]): Promise<void>;
    list<T = unknown>(selector: { prefix: unknown[] }): AsyncIterableIterator<KvEntry<T>>;
    enqueue(value: unknown, options?: { delay?: number; keysIfUndelivered?: unknown[][] }): Promise<{ ok: true; versionstamp: string }>;
    listenQueue(handler: (value: unknown) => Promise<void> | void): Promise<void>;
    close(): void;
  }
  const args: string[];
  const env: { get(name: string): string | undefined };
  const stdin: { readable: ReadableStream<Uint8Array> & AsyncIterable<Uint8Array> };
  const stdout: { writeSync(bytes: Uint8Array): number };
  function exit(code?: number): never;
  function openKv(path?: string): Promise<Kv>;
  function unrefTimer(id: number): void;
  function serve(
    options: { port?: number; hostname?: string; signal?: AbortSignal; onListen?: (addr: { port: number; hostname: string }) => void },
    handler: (request: Request) => Response | Promise<Response>,
  ): { finished: Promise<void>; shutdown(): Promise<void>; addr: { port: number; hostname: string } };
}

declare module "cloudflare:workers" {
  export const env: Record<string, unknown>;
  export function waitUntil(promise: Promise<unknown>): void;
}
