import { MemoryMount } from "@ws/core";
import { memoryHarness } from "./reference/memory-harness.js";
import { memoryTreeHarness } from "./reference/memory-tree-harness.js";
import { describeMountConformance } from "./vitest.js";

// The positive controls: MemoryMount (lazy) and the reference eager tree mount pass every case.
describeMountConformance(
  "memory",
  memoryHarness({ createMount: (o) => MemoryMount(o) }),
  {
    write: "supported",
    delete: "supported",
    conditionalPut: "supported",
    forbidden: "supported",
    listPageSize: "supported",
    rangedReads: "supported",
    streamedWrites: "supported",
  },
  { pageSize: 100 },
);

describeMountConformance("memory-tree", memoryTreeHarness(), {
  eager: "supported",
  eagerAtomic: "supported",
  modes: "supported",
  symlinks: "supported",
  subPrefix: "unsupported",
});
