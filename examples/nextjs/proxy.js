// Next 16's proxy (formerly middleware) runs in the Node.js runtime, before
// every request it matches: record, flush under the event's waitUntil (the
// response does not wait for it), and let the request through.
import { NextResponse } from "next/server";
import { intempt } from "./lib/intempt.js";

export async function proxy(request, event) {
  const profile = request.nextUrl.searchParams.get("profile") ?? "anonymous";
  await intempt().track(profile, "Page View", { path: request.nextUrl.pathname, runtime: "proxy" });
  event.waitUntil(intempt().flush());
  return NextResponse.next();
}

export const config = { matcher: "/docs/:path*" };
