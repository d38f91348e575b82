// workerd: the beforeSend scenario in one request; the query carries the
// endpoint. Unhandled rejections in the isolate are counted.
import { SDK } from "intempt-edge";
import { beforeSendScenario } from "./before-send.js";

let unhandled = 0;
addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  unhandled++;
});

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const result = await beforeSendScenario(SDK, {
      endpoint: url.searchParams.get("endpoint"),
      apiKey: url.searchParams.get("apiKey"),
      runtime: "workerd",
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    return Response.json({ ...result, unhandled });
  },
};
