// `deno test`: the handler with an SDK whose fetch is the recorder of
// "intempt-edge/testing". No network and no permissions are needed: every
// request is checked against Intempt's wire contract and answered in process.
import { SDK } from "intempt-edge";
import { createRecorder, TEST_API_KEY } from "intempt-edge/testing";

import { createHandler } from "./main.ts";

// (std's assertEquals would do; a local one keeps the example dependency-free.)
function assertEquals(actual: unknown, expected: unknown): void {
  const [a, e] = [JSON.stringify(actual), JSON.stringify(expected)];
  if (a !== e) throw new Error(`expected ${e}\n     got ${a}`);
}

function setup() {
  const recorder = createRecorder({ sourceId: "616010376811536384" });
  const intempt = new SDK("demo-organization", "demo-project", TEST_API_KEY, "616010376811536384", 100, 20, { fetch: recorder });
  return { recorder, intempt, handle: createHandler(intempt) };
}

Deno.test("a visit to /buy tracks a Purchase", async () => {
  const { recorder, intempt, handle } = setup();

  const response = await handle(new Request("https://shop.example/buy?profile=p1"));

  assertEquals(await response.text(), "ok, delivered 2\n");
  assertEquals(
    recorder.events().map((e) => [e.name, e.item.profileId, e.item.data]),
    [
      ["Page View", "p1", { path: "/buy", runtime: "deno" }],
      ["Purchase", "p1", { price_amount: 50, product_name: "Shoes" }],
    ],
  );
  await intempt.close();
});

Deno.test("a 503 is retried and the event still arrives", async () => {
  const { recorder, intempt, handle } = setup();
  recorder.failNext({ status: 503, retryAfter: "0" });

  await handle(new Request("https://shop.example/?profile=p2"));

  assertEquals(
    recorder.requests().map((r) => r.status),
    [503, 201],
  );
  assertEquals(
    recorder.events().map((e) => e.name),
    ["Page View"],
  );
  await intempt.close();
});
