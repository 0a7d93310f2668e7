import { defineConfig } from "vitest/config";

// One project per package (each package's vitest.config.ts calls wsProject from vitest.shared.ts).
export default defineConfig({
  test: {
    projects: ["packages/*", "examples/*"],
  },
});
