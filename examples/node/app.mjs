// The example's request handler, apart from the server so a test can give it
// an SDK whose `fetch` is the recorder of "intempt-edge/testing".
export function createHandler(intempt) {
  return async (request, response) => {
    const url = new URL(request.url, "http://localhost");
    const profileId = url.searchParams.get("profile") ?? "1845348";
    await intempt.track(profileId, "Page View", { path: url.pathname, runtime: "node" });
    if (url.pathname === "/buy") await intempt.track(profileId, "Purchase", { price_amount: 50, product_name: "Shoes" });
    response.end("ok\n");
  };
}
