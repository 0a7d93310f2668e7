import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A content descriptor as manifests carry them. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

const enc = new TextEncoder();

/**
 * Writes OCI image layouts (the directory format `skopeo copy oci:DIR:TAG` reads) from bytes, so
 * the tests control every blob and every media type, including wrong ones.
 */
export class OciLayout {
  readonly dir: string;
  readonly #index: { schemaVersion: 2; manifests: Descriptor[] } = { schemaVersion: 2, manifests: [] };

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
    writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    this.#save();
  }

  #save(): void {
    writeFileSync(join(this.dir, "index.json"), JSON.stringify(this.#index));
  }

  blob(bytes: Uint8Array | string, mediaType: string, annotations?: Record<string, string>): Descriptor {
    const data = typeof bytes === "string" ? enc.encode(bytes) : bytes;
    const hex = createHash("sha256").update(data).digest("hex");
    writeFileSync(join(this.dir, "blobs", "sha256", hex), data);
    return { mediaType, digest: `sha256:${hex}`, size: data.length, ...(annotations ? { annotations } : {}) };
  }

  /** Adds a manifest under `tag`; returns its descriptor (the digest a pull by digest uses). */
  manifest(tag: string, manifest: Record<string, unknown>): Descriptor {
    const mediaType = "application/vnd.oci.image.manifest.v1+json";
    const descriptor = this.blob(JSON.stringify({ schemaVersion: 2, mediaType, ...manifest }), mediaType);
    this.#index.manifests.push({ ...descriptor, annotations: { "org.opencontainers.image.ref.name": tag } });
    this.#save();
    return descriptor;
  }

  /** An image: `layers` are tar or tar.gz bytes applied in order; `layerType` as declared in the manifest. */
  image(
    tag: string,
    layers: readonly { bytes: Uint8Array; mediaType: string; diffId: string }[],
  ): Descriptor {
    const config = this.blob(
      JSON.stringify({
        architecture: "amd64",
        os: "linux",
        rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
        config: {},
      }),
      "application/vnd.oci.image.config.v1+json",
    );
    return this.manifest(tag, { config, layers: layers.map((l) => this.blob(l.bytes, l.mediaType)) });
  }

  /** An artifact: one layer per file, named by its title annotation. */
  artifact(
    tag: string,
    files: readonly { title: string; bytes: Uint8Array | string; mediaType?: string }[],
  ): Descriptor {
    const config = this.blob("{}", "application/vnd.oci.empty.v1+json");
    return this.manifest(tag, {
      artifactType: "application/vnd.ws-mounts.test-bundle",
      config,
      layers: files.map((f) =>
        this.blob(f.bytes, f.mediaType ?? "application/octet-stream", {
          "org.opencontainers.image.title": f.title,
        }),
      ),
    });
  }

  /** A multi-platform image index under `tag`, pointing at manifests added before. */
  index(
    tag: string,
    entries: readonly { manifest: Descriptor; os: string; architecture: string }[],
  ): Descriptor {
    const mediaType = "application/vnd.oci.image.index.v1+json";
    const body = {
      schemaVersion: 2,
      mediaType,
      manifests: entries.map((e) => ({
        mediaType: e.manifest.mediaType,
        digest: e.manifest.digest,
        size: e.manifest.size,
        platform: { os: e.os, architecture: e.architecture },
      })),
    };
    const descriptor = this.blob(JSON.stringify(body), mediaType);
    this.#index.manifests.push({ ...descriptor, annotations: { "org.opencontainers.image.ref.name": tag } });
    this.#save();
    return descriptor;
  }

  read(digest: string): Uint8Array {
    return readFileSync(join(this.dir, "blobs", "sha256", digest.slice("sha256:".length)));
  }
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}
