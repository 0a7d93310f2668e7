import { describeMountConformance } from "@ws/testkit/vitest";
import { serverInfo } from "../test/s3-env.js";
import { s3Harness } from "../test/s3-harness.js";

// moto: full fidelity, except that it accepts any credentials (IAM auth is off), so nothing can
// be forbidden there; the wrong-credentials case runs on Swift.
describeMountConformance(
  "s3",
  s3Harness(serverInfo("moto")),
  {
    write: "supported",
    delete: "supported",
    conditionalPut: "supported",
    forbidden: { status: "unsupported", reason: "moto accepts any credentials (IAM auth is off)" },
  },
  { server: "moto", pageSize: 1000, timeoutMs: 60_000 },
);

// Swift's S3 layer answers 501 to If-Match / If-None-Match on PUT: S3Bucket turns that into
// ENOTSUP, which the suite checks (nothing written).
describeMountConformance(
  "s3",
  s3Harness(serverInfo("swift")),
  {
    write: "supported",
    delete: "supported",
    conditionalPut: { status: "unsupported", reason: "Swift's s3api answers 501 to conditional PUTs" },
    forbidden: "supported",
  },
  { server: "swift", pageSize: 1000, timeoutMs: 60_000 },
);
