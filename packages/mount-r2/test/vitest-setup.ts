import { guardAtomicsWait } from "./atomics-wait-guard.js";

// Before any test file starts Miniflare: see atomics-wait-guard.ts.
guardAtomicsWait();
