import type { HeapProfiler } from "node:inspector";
import { Session } from "node:inspector/promises";

/** A frame of an allocation's stack, as V8's sampling heap profiler reports it. */
export interface SampledFrame {
  readonly functionName: string;
  readonly url: string;
}

/**
 * The bytes V8 allocated on its heap while `run` ran, by V8's sampling heap profiler (one sample
 * per `interval` bytes on average, objects freed since included), counted only for the samples
 * whose stack `counts` accepts: the test servers live in the same process and allocate too, so
 * a test counts the stacks that go through the code it measures. A sampled estimate, not an exact
 * count: with 128-byte sampling, a megabyte is about 8,000 samples (about 1% of noise).
 */
export async function sampledHeapBytes(
  run: () => Promise<void>,
  counts: (stack: readonly SampledFrame[]) => boolean,
  interval = 128,
): Promise<number> {
  const session = new Session();
  session.connect();
  try {
    await session.post("HeapProfiler.enable");
    await session.post("HeapProfiler.startSampling", {
      samplingInterval: interval,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    let profile: HeapProfiler.SamplingHeapProfile;
    try {
      await run();
    } finally {
      ({ profile } = await session.post("HeapProfiler.stopSampling"));
    }
    let total = 0;
    const stack: SampledFrame[] = [];
    const walk = (node: HeapProfiler.SamplingHeapProfileNode): void => {
      stack.push(node.callFrame);
      if (node.selfSize > 0 && counts(stack)) total += node.selfSize;
      for (const child of node.children) walk(child);
      stack.pop();
    };
    walk(profile.head);
    return total;
  } finally {
    session.disconnect();
  }
}
