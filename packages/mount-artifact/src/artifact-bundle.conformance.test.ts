import { describeMountConformance } from "@ws/testkit/vitest";
import { artifactHarness } from "../test/artifact-harness.js";

// The full eager suite, once per format, each delivered a different way (bytes, a file, HTTP).
const capabilities = {
  eager: "supported",
  eagerAtomic: "supported",
  modes: "supported",
  symlinks: "supported",
  subPrefix: "supported",
  caseSensitive: "supported",
  unicodeNormalization: "supported",
  longSegment: "supported",
  workspace: "supported",
} as const;

describeMountConformance("artifact", artifactHarness("tar", "file"), capabilities, { server: "tar (file)" });
describeMountConformance("artifact", artifactHarness("tar.gz", "http"), capabilities, {
  server: "tar.gz (http)",
});
describeMountConformance("artifact", artifactHarness("zip", "bytes"), capabilities, {
  server: "zip (bytes)",
});
