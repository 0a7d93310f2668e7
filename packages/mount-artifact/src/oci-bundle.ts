import { type MountDiagnostic, MountError } from "@ws/core";
import type { InflateBudget } from "./bundle-limits.js";
import type { BundleTree } from "./bundle-tree.js";
import { sniffFormat } from "./detect-format.js";
import {
  type Descriptor,
  IMAGE_CONFIG_TYPES,
  LAYER_TYPES,
  MANIFEST_TYPES,
  type OciManifest,
  type OciRegistryClient,
} from "./oci-registry.js";
import { readTar } from "./tar-reader.js";

export const TITLE_ANNOTATION = "org.opencontainers.image.title";

export interface OciPullOptions {
  /** `os/architecture[/variant]` picked from an image index. Default `linux/amd64`. */
  readonly platform: string;
  /** Pins the manifest's digest (`sha256:<hex>` or bare hex). */
  readonly sha256: string | undefined;
  readonly maxArchiveBytes: number;
  readonly diagnose: ((d: MountDiagnostic) => void) | undefined;
}

function descriptors(value: unknown, what: string, root: string | undefined): Descriptor[] {
  if (!Array.isArray(value))
    throw new MountError("EIO", `${what} has no list of descriptors`, { path: root, root });
  for (const d of value) {
    if (
      typeof d !== "object" ||
      d === null ||
      typeof d.digest !== "string" ||
      typeof d.mediaType !== "string"
    )
      throw new MountError("EIO", `${what} has a malformed descriptor`, { path: root, root });
  }
  return value as Descriptor[];
}

/**
 * Pulls `client.reference` into the tree: an image's layers applied in order with whiteouts, or an
 * artifact's layers each written as the file its title annotation names. Returns what was mounted.
 */
export async function pullOci(
  client: OciRegistryClient,
  tree: BundleTree,
  budget: InflateBudget,
  options: OciPullOptions,
): Promise<{ digest: string; kind: "image" | "artifact" }> {
  const root = budget.root;
  const ref = client.reference;
  const pinned =
    options.sha256 === undefined
      ? undefined
      : options.sha256.startsWith("sha256:")
        ? options.sha256
        : `sha256:${options.sha256}`;
  if (pinned && ref.digest && pinned !== ref.digest)
    throw new MountError("EINVAL", `sha256 ${pinned} contradicts the reference's digest ${ref.digest}`, {
      path: root,
      root,
    });
  const expected = ref.digest ?? pinned;
  let { digest, mediaType, json } = await client.manifest(ref.digest ?? (ref.tag as string), expected);
  const name = `${ref.host}/${ref.repository}`;
  if (mediaType === MANIFEST_TYPES.ociIndex || mediaType === MANIFEST_TYPES.dockerList) {
    const [os, architecture, variant] = options.platform.split("/");
    const entries = descriptors(json.manifests, `index ${digest} of ${name}`, root);
    const match = entries.find(
      (m) =>
        m.platform?.os === os &&
        m.platform?.architecture === architecture &&
        (variant === undefined || m.platform?.variant === variant),
    );
    if (!match) {
      const have = entries
        .map((m) => [m.platform?.os, m.platform?.architecture, m.platform?.variant].filter(Boolean).join("/"))
        .join(", ");
      throw new MountError(
        "ENOENT",
        `${name} has no manifest for platform ${options.platform} (it has: ${have || "none"}); pass platform`,
        { path: root, root },
      );
    }
    ({ digest, mediaType, json } = await client.manifest(match.digest, match.digest));
  }
  if (mediaType !== MANIFEST_TYPES.ociManifest && mediaType !== MANIFEST_TYPES.dockerManifest)
    throw new MountError(
      "ENOTSUP",
      `${name}@${digest} has media type ${JSON.stringify(mediaType)}, not an image or artifact manifest`,
      { path: root, root },
    );
  const manifest = json as unknown as OciManifest;
  const layers = descriptors(manifest.layers, `manifest ${digest} of ${name}`, root);
  const config = manifest.config as Descriptor | undefined;
  const image =
    config !== undefined &&
    IMAGE_CONFIG_TYPES.includes(config.mediaType) &&
    layers.every((l) => l.mediaType in LAYER_TYPES);
  let total = 0;
  const fetchLayer = async (layer: Descriptor): Promise<Uint8Array> => {
    total += layer.size;
    if (total > options.maxArchiveBytes)
      throw new MountError(
        "EDQUOT",
        `${name}@${digest}: its blobs add up to more than maxArchiveBytes (${options.maxArchiveBytes})`,
        { path: root, root },
      );
    return client.blob(layer, options.maxArchiveBytes);
  };
  if (image) {
    // Download and verify every layer before reading any: a bad digest anywhere refuses the image.
    const blobs: Uint8Array[] = [];
    for (const layer of layers) blobs.push(await fetchLayer(layer));
    for (const [i, layer] of layers.entries()) {
      const bytes = blobs[i] as Uint8Array;
      const declared = LAYER_TYPES[layer.mediaType];
      const sniffed = sniffFormat(bytes);
      if (declared === "zstd" || sniffed === "zstd")
        throw new MountError(
          "ENOTSUP",
          `layer ${layer.digest} is zstd-compressed; Node has no zstd before v23`,
          { path: root, root },
        );
      if (sniffed !== declared) {
        throw new MountError(
          "EINVAL",
          `layer ${layer.digest} is declared ${layer.mediaType} but its bytes are ${sniffed ?? "neither tar nor gzip"}; refused`,
          { path: root, root },
        );
      }
      tree.beginLayer(true);
      await readTar(bytes, declared === "tar.gz", tree, budget, `layer ${layer.digest}`);
      blobs[i] = new Uint8Array(0);
    }
    return { digest, kind: "image" };
  }
  tree.beginLayer(false);
  for (const layer of layers) {
    const title = layer.annotations?.[TITLE_ANNOTATION];
    if (typeof title !== "string" || title === "") {
      options.diagnose?.({
        code: "invalid-path",
        key: layer.digest,
        root,
        message: `artifact layer ${layer.digest} (${layer.mediaType}) has no ${TITLE_ANNOTATION} annotation; skipped`,
      });
      continue;
    }
    budget.declare(layer.size, title);
    const bytes = await fetchLayer(layer);
    budget.addBytes(bytes.length, title);
    tree.add({ name: title, type: "file", mode: 0o644, data: bytes });
  }
  return { digest, kind: "artifact" };
}
