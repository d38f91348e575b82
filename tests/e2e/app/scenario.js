// The scenario every runtime runs, identically: one track() call, then an
// explicit flush. The runtime-specific files only obtain the SDK and print.
export const PROPERTIES = { plan: "pro", amount: 42.5, items: ["a", "b"], nested: { k: "v" }, when: new Date(0), skipped: undefined };

export async function basic(SDK, IntemptError, { endpoint, apiKey, runtime }) {
  const sdk = new SDK("demo-organization", "demo-project", apiKey, "616010376811536384", 100, 20, { endpoint });
  const before = Date.now();
  await sdk.track(`${runtime}-p1`, "Purchase", PROPERTIES);
  let refused = null;
  try {
    await sdk.track("", "Purchase", {});
  } catch (error) {
    refused = { isIntemptError: error instanceof IntemptError, code: error.code };
  }
  const report = await sdk.flush();
  const after = Date.now();
  return { before, after, report, refused };
}
