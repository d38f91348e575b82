// `node --import ./node-transport-no-http.mjs`: a resolve hook under which
// node:http and node:https cannot be imported, as under a bundler that does
// not know them.
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === "node:http" || specifier === "node:https" || specifier === "http" || specifier === "https") {
    const error = new Error("Cannot find module '" + specifier + "'");
    error.code = "MODULE_NOT_FOUND";
    throw error;
  }
  return next(specifier, context);
}`),
);
