import { defineProject, type UserWorkspaceConfig } from "vitest/config";

// The "@ws/source" export condition points every @ws/* import at the package's TypeScript source,
// so tests never need a build first. Vite's defaults are kept after it for the code Vite processes.
const conditions = ["@ws/source", "module", "node", "development|production"];
// Externalised dependencies are loaded by Node itself (vitest passes these as `node --conditions`).
// "module" must not be among them: Node would then pick bundler-only builds (the AWS SDK's dist-es,
// with extensionless imports) even from CommonJS code.
const externalConditions = ["@ws/source"];

/** The vitest project of one package: its tests sit next to the code, plus an optional test/ folder. */
export function wsProject(name: string, extra: UserWorkspaceConfig["test"] = {}): UserWorkspaceConfig {
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions } },
    test: { name, include: ["src/**/*.test.ts", "test/**/*.test.ts"], ...extra },
  });
}
