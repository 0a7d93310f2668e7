import { defineConfig } from "vitest/config";
import { SummaryReporter } from "./scripts/summary-reporter.ts";

// One project per package (each package's vitest.config.ts calls wsProject from vitest.shared.ts).
// The conformance reporter is loaded from source: this file is read before any build.
export default defineConfig({
  test: {
    projects: ["packages/*", "examples/*"],
    reporters: [
      "default",
      ["./packages/testkit/src/reporter.ts", { outputDir: "conformance-report" }],
      new SummaryReporter(),
    ],
  },
});
