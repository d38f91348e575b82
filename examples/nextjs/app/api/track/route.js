// A route handler in Next's default Node.js runtime: record, answer, and flush
// after the response with `after()` (Next keeps the work alive until it ends).
import { after } from "next/server";
import { intempt } from "../../../lib/intempt.js";

export async function GET(request) {
  const url = new URL(request.url);
  const profile = url.searchParams.get("profile") ?? "anonymous";
  await intempt().track(profile, "Page View", { path: url.pathname, runtime: "nodejs" });
  after(() => intempt().flush());
  return Response.json({ recorded: profile });
}
