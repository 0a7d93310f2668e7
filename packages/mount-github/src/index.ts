export type { GitDiagnostic, GitHubCommonOptions } from "./github-common.js";
export { GitHubRepo, type GitHubRepoMount, type GitHubRepoOptions } from "./github-repo.js";
export {
  GITHUB_BLOB_LIMIT,
  GitHubTree,
  type GitHubTreeMount,
  type GitHubTreeOptions,
} from "./github-tree.js";
