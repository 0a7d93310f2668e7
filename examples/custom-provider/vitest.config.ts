import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { defineConfig } from "vitest/config";

// Inside the ws mounts repository the @ws/* packages are not built: their "@ws/source" export
// condition points at TypeScript source, so resolve it first (as the repo's vitest.shared.ts does).
// An outside author installing @ws/core and @ws/testkit from npm can drop `conditions`.
const conditions = ["@ws/source", "module", "node", "development|production"];

// The conformance reporter, by file path. Installed from npm this is simply
//   reporters: ["default", new ConformanceReporter({ outputDir: "conformance-report" })]
// with `import { ConformanceReporter } from "@ws/testkit/reporter"`. Here the config itself is
// loaded by plain Node, which knows no "@ws/source" condition and cannot import TypeScript, so we
// hand vitest the reporter's source file (vitest compiles reporter files itself).
function conformanceReporter(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve("@ws/testkit/package.json");
  const exports = JSON.parse(readFileSync(manifest, "utf8")).exports["./reporter"];
  return join(dirname(manifest), exports["@ws/source"] ?? exports.default);
}

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    name: "custom-provider",
    include: ["src/**/*.test.ts"],
    // `npm test` in this folder writes conformance-report/conformance.{json,md}. (In the
    // repository-wide run, reporters come from the root config instead.)
    reporters: ["default", [conformanceReporter(), { outputDir: "conformance-report" }]],
  },
});
