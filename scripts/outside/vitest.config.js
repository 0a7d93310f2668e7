import { ConformanceReporter } from "@ws/testkit/reporter";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { reporters: ["default", new ConformanceReporter({ outputDir: "conformance-report" })] },
});
