import { defineProject, type UserWorkspaceConfig } from "vitest/config";

// The "@ws/source" export condition points every @ws/* import at the package's TypeScript source,
// so tests never need a build first. Vite's defaults are kept after it.
const conditions = ["@ws/source", "module", "node", "development|production"];

/** The vitest project of one package: its tests sit next to the code, plus an optional test/ folder. */
export function wsProject(name: string, extra: UserWorkspaceConfig["test"] = {}): UserWorkspaceConfig {
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: conditions } },
    test: { name, include: ["src/**/*.test.ts", "test/**/*.test.ts"], ...extra },
  });
}
