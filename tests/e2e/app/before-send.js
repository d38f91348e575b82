// The beforeSend scenario, shared by Node and Deno (before-send.mjs runs it):
// a hook that redacts, enriches, samples, records an event of its own, and
// fails in every way a hook can (throws, returns a promise, a Proxy that
// throws, an event too large, keeps and mutates what it returned). Every
// call must resolve; the test checks what reached the server.
export async function beforeSendScenario(SDK, { endpoint, apiKey, runtime }) {
  const lines = [];
  const kept = [];
  let sdk;
  const hook = (event) => {
    // What it returned before, mutated now: must not change what was sent.
    for (const old of kept) {
      old.profileId = "mutated";
      if (old.data) old.data.mutated = true;
    }
    switch (event.name) {
      case "Boom":
        throw new Error("hook bug");
      case "Async":
        return Promise.resolve(event);
      case "Trap":
        return new Proxy(event, {
          get() {
            throw new Error("trap");
          },
        });
      case "Huge":
        return { ...event, data: { pad: "x".repeat(100_000) } };
      case "Forgot":
        return undefined;
      case "Audit":
        // A call from inside the hook: queued as it is, no recursion.
        sdk.track(event.profileId, "Audited", { by: "hook" });
        break;
    }
    if (event.profileId.endsWith("-drop")) return null;
    if (event.data) {
      delete event.data.email;
      event.data.runtime = runtime;
    }
    if (event.userAttributes) event.userAttributes.source = "hook";
    kept.push(event);
    return event;
  };
  sdk = new SDK("demo-organization", "demo-project", apiKey, "616010376811536384", {
    endpoint,
    batchTimeMs: 50,
    beforeSend: hook,
    logger: (line) => lines.push(line),
  });
  const p = `${runtime}-p`;
  const calls = [
    () => sdk.track(p, "Purchase", { email: "a@example.com", amount: 42.5 }),
    () => sdk.track(`${p}-drop`, "Purchase", { amount: 1 }),
    () => sdk.identify(p, "u1", "Signed up", { plan: "pro" }),
    () => sdk.alias(p, "u1", "u2"),
    () => sdk.record(p, "Visit", "u1", undefined, { email: "b@example.com", page: "/" }),
    () => sdk.track(p, "Boom"),
    () => sdk.track(p, "Async"),
    () => sdk.track(p, "Trap"),
    () => sdk.track(p, "Huge"),
    () => sdk.track(p, "Forgot"),
    () => sdk.track(p, "Audit", { email: "c@example.com" }),
  ];
  const outcomes = [];
  for (const call of calls) {
    try {
      await call();
      outcomes.push("ok");
    } catch (error) {
      outcomes.push(`${error?.name}: ${error?.code} ${error?.message}`);
    }
  }
  const report = await sdk.flush();
  return {
    outcomes,
    report,
    stats: sdk.stats(),
    warnings: lines.filter((l) => l.includes("beforeSend failed, so")),
    debug: lines.filter((l) => l.includes("beforeSend failed, the")),
  };
}
