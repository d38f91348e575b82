// The same in the Edge Runtime (the package's `edge-light` entry).
import { after } from "next/server";
import { intempt } from "../../../lib/intempt.js";

export const runtime = "edge";

export async function GET(request) {
  const url = new URL(request.url);
  const profile = url.searchParams.get("profile") ?? "anonymous";
  await intempt().track(profile, "Page View", { path: url.pathname, runtime: "edge" });
  after(() => intempt().flush());
  return Response.json({ recorded: profile });
}
