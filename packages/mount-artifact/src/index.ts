export {
  ArtifactBundle,
  type ArtifactBundleOptions,
  type ArtifactSource,
  DEFAULT_MAX_ARCHIVE_BYTES,
} from "./artifact-bundle.js";
export { DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_EXPANSION } from "./bundle-limits.js";
export type { ArchiveFormat } from "./detect-format.js";
export { type OciReference, parseOciReference, type RegistryOptions } from "./oci-registry.js";
