export { artifactProvider, BUILTIN_PROVIDERS, hostProvider, s3Provider } from "./builtin-providers.js";
export { type CliIo, runCli } from "./cli.js";
export { CliError } from "./cli-error.js";
export { EXIT } from "./exit-codes.js";
export { isLongForm, type MountSpec, parseMountSpec } from "./mount-spec.js";
export {
  defineProvider,
  type ProviderCreateInput,
  type ProviderDescriptor,
  type ProviderOption,
  ProviderRegistry,
  schemeOf,
} from "./provider-registry.js";
export {
  githubProvider,
  githubTreeProvider,
  httpProvider,
  parseGitHubSource,
} from "./remote-providers.js";
