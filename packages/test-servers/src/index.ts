export {
  type GitHttpFault,
  type GitHttpRequestLog,
  type GitHttpServer,
  type StartGitHttpOptions,
  selfSignedCert,
  startGitHttp,
} from "./git-http.js";
export {
  buildEdgeRepo,
  buildRealFilesRepo,
  commitTree,
  type EdgeRepoInfo,
  type GitResult,
  type GitTreeEntry,
  git,
  initBareRepo,
  type NativeTreeEntry,
  nativeCatBlob,
  nativeCatBlobs,
  nativeLsTree,
  pseudoRandomBytes,
  requireGit,
} from "./git-repos.js";
export {
  findGitHubOperation,
  type GitHubExchange,
  validateGitHubExchange,
  validateSchema,
} from "./github-openapi.js";
export {
  type GitHubRestRequestLog,
  type GitHubRestServer,
  type StartGitHubRestOptions,
  startGitHubRest,
} from "./github-rest.js";
export type { HttpServerInfo, HttpServerQuirks, HttpTestServer } from "./http-server.js";
export { type MiniflareR2Server, type StartMiniflareR2Options, startMiniflareR2 } from "./miniflare-r2.js";
export {
  type MiniflareR2HttpServer,
  type StartMiniflareR2HttpOptions,
  startMiniflareR2Http,
} from "./miniflare-r2-http.js";
export { resetMoto, type StartMotoOptions, startMoto } from "./moto.js";
export { type StartNginxOptions, startNginx } from "./nginx.js";
export { type OciRegistryServer, type StartOciRegistryOptions, startOciRegistry } from "./oci-registry.js";
export {
  type PostgresInfo,
  type PostgresTestServer,
  type StartPostgresOptions,
  startPostgres,
} from "./postgres.js";
export { findExecutable, freePort, portOpen } from "./process-group.js";
export { type StartPythonHttpOptions, startPythonHttp } from "./python-http.js";
export {
  type R2HttpBinding,
  type R2HttpInfo,
  type R2HttpObject,
  type R2HttpObjectBody,
  type R2HttpObjects,
  r2HttpBinding,
} from "./r2-http-binding.js";
export { type StartRcloneServeOptions, startRcloneServe } from "./rclone-serve.js";
export { rcloneS3Env, type S3ClientSettings, s3ClientSettings } from "./s3-clients.js";
export type { S3ServerInfo, S3ServerQuirks, S3TestServer } from "./s3-server.js";
export { type StartSwiftOptions, startSwift } from "./swift.js";
