import { defineProject, type UserWorkspaceConfig } from "vitest/config";

// The "@ws/source" export condition points every @ws/* import at the package's TypeScript source,
// so tests never need a build first. Tests run in Vite's SSR environment, whose conditions vitest
// also hands to Node (`node --conditions`) for externalised dependencies. "module" must not be
// among them: Node would then pick bundler-only builds (the AWS SDK's dist-es, with extensionless
// imports) even from CommonJS code.
const conditions = ["@ws/source", "node", "development|production"];

/** The vitest project of one package: its tests sit next to the code, plus an optional test/ folder. */
export function wsProject(name: string, extra: UserWorkspaceConfig["test"] = {}): UserWorkspaceConfig {
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ["@ws/source"] } },
    test: { name, include: ["src/**/*.test.ts", "test/**/*.test.ts"], ...extra },
  });
}
