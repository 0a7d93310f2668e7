import { describeMountConformance } from "@ws/testkit/vitest";
import { hostDirHarness } from "../test/host-dir-harness.js";

describeMountConformance(
  "fs",
  hostDirHarness(),
  {
    write: "supported",
    streamedWrites: "supported",
    delete: "supported",
    subPrefix: "supported",
    paginationBoundary: "supported",
    caseSensitive: "supported",
    unicodeNormalization: "supported",
    longSegment: "supported",
    workspace: "supported",
    modeRoundTrip: "supported",
    mtimeRoundTrip: "supported",
    emptyDirectories: "supported",
    symlinkRoundTrip: "supported",
    conditionalPut: { status: "unsupported", reason: "a host directory has no versions to compare" },
    forbidden: {
      status: "unsupported",
      reason:
        "the tests run as root, and root ignores permission bits (no way to make a directory refuse it)",
    },
  },
  { server: "ext4" },
);
