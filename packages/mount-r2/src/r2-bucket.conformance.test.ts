import { describeMountConformance } from "@ws/testkit/vitest";
import { r2Harness } from "../test/r2-harness.js";

// A Workers binding carries its permission with it: there is no key that could be wrong, so
// "forbidden" does not apply. Everything else is R2's full behaviour, conditional puts included.
describeMountConformance(
  "r2",
  r2Harness(),
  {
    write: "supported",
    delete: "supported",
    conditionalPut: "supported",
    modeRoundTrip: "supported",
    mtimeRoundTrip: "supported",
    emptyDirectories: "supported",
    symlinkRoundTrip: "supported",
    rangedReads: "supported",
    // Multipart uploads: the harness's 5 MiB parts make the cases' 6 MiB sources two parts.
    streamedWrites: "supported",
    forbidden: { status: "unsupported", reason: "an R2 binding has no credentials to get wrong" },
    // The harness hands createMount({ pageSize }) on to R2Bucket, which lists in pages of that size.
    listPageSize: "supported",
  },
  { server: "miniflare", pageSize: 1000, timeoutMs: 60_000 },
);
