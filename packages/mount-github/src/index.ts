export type { GitDiagnostic, GitHubCommonOptions } from "./github-common.js";
export { GitHubRepo, type GitHubRepoMount, type GitHubRepoOptions } from "./github-repo.js";
