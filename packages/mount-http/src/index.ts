export {
  type HttpAuth,
  type HttpListing,
  HttpTree,
  type HttpTreeMount,
  type HttpTreeOptions,
} from "./http-tree.js";
export { type ManifestFile, type ParsedManifest, parseManifest } from "./parse-manifest.js";
