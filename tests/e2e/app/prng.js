// The seeded PRNG of the fault schedules and hostile call streams: the
// contract's own (pkg-template/contract.js), so a seed means the same
// sequence here and in the ingest server. The path holds from this folder
// and from its copies, which tests/e2e/harness.mjs always makes three levels
// down too (target/e2e/<name>); the suites also import these modules from here.
export { mulberry32 } from "../../../pkg-template/contract.js";
