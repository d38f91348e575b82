// The seeded PRNG of the fault schedules and hostile call streams: the
// contract's own (pkg-template/contract.js, shipped in the package this app
// installs), so a seed means the same sequence here and in the ingest server.
export { mulberry32 } from "./node_modules/intempt-edge/contract.js";
