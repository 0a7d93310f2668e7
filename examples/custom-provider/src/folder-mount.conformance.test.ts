import { describeMountConformance } from "@ws/testkit/vitest";
import { folderHarness } from "./folder-harness.js";

describeMountConformance(
  "folder",
  folderHarness(),
  {
    write: "supported",
    delete: "supported",
    // Conditional puts are refused with ENOTSUP: the suite checks that they fail cleanly.
    conditionalPut: { status: "unsupported", reason: "a folder has no compare-and-swap" },
    // Tests run as root in CI containers, where file permissions are not enforced.
    forbidden: { status: "unsupported", reason: "permissions are not enforced for root" },
    listPageSize: {
      status: "unsupported",
      reason: "a folder is read with one readdir per directory: no pages",
    },
  },
  { server: "linux-fs" },
);
