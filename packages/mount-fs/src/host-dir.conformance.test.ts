import { describeMountConformance } from "@ws/testkit/vitest";
import { hostDirHarness } from "../test/host-dir-harness.js";

describeMountConformance(
  "fs",
  hostDirHarness(),
  {
    write: "supported",
    delete: "supported",
    subPrefix: "supported",
    paginationBoundary: "supported",
    caseSensitive: "supported",
    unicodeNormalization: "supported",
    longSegment: "supported",
    workspace: "supported",
    modeRoundTrip: "supported",
    mtimeRoundTrip: { status: "unsupported", reason: "HostDir does not apply put's mtime yet (issue 17)" },
    emptyDirectories: { status: "unsupported", reason: "HostDir has no mkdir/rmdir yet (issue 17)" },
    symlinkRoundTrip: { status: "unsupported", reason: "HostDir does not store links yet (issue 17)" },
    conditionalPut: { status: "unsupported", reason: "a host directory has no versions to compare" },
    forbidden: {
      status: "unsupported",
      reason:
        "the tests run as root, and root ignores permission bits (no way to make a directory refuse it)",
    },
  },
  { server: "ext4" },
);
