import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MountError } from "@ws/core";
import { type OciRegistryServer, startOciRegistry } from "@ws/test-servers";
import { recordingApi } from "@ws/testkit";
import { Workspace } from "@ws/workspace";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { gzip, tar } from "../test/archive-builder.js";
import { type Descriptor, OciLayout, sha256Digest } from "../test/oci-layout.js";
import { ArtifactBundle, type ArtifactBundleOptions } from "./index.js";

// A real registry (Debian's docker-registry) on 127.0.0.1, filled with skopeo from OCI layouts
// built here: an image with whiteouts, an artifact, and damaged or lying variants.

const ROOT = "/workspace/oci";
const REPO = "ws/test";
const GZ = "application/vnd.oci.image.layer.v1.tar+gzip";
const TAR = "application/vnd.oci.image.layer.v1.tar";
let registry: OciRegistryServer;
let work: string;
const manifests: Record<string, Descriptor> = {};

function ref(tag: string): string {
  return `oci://${registry.host}/${REPO}:${tag}`;
}

/** The first layer, made by GNU tar from a directory on disk. */
function gnuTarLayer(dir: string): Uint8Array {
  const src = join(dir, "layer1");
  mkdirSync(join(src, "a"), { recursive: true });
  mkdirSync(join(src, "b"));
  mkdirSync(join(src, "c"));
  mkdirSync(join(src, "bin"));
  mkdirSync(join(src, "etc"));
  writeFileSync(join(src, "a/x.txt"), "x from layer 1\n");
  writeFileSync(join(src, "a/y.txt"), "y from layer 1\n");
  writeFileSync(join(src, "b/z.txt"), "z\n");
  writeFileSync(join(src, "c/old.txt"), "old\n");
  writeFileSync(join(src, "bin/tool"), "#!/bin/sh\necho tool\n");
  chmodSync(join(src, "bin/tool"), 0o755);
  symlinkSync("../a/y.txt", join(src, "etc/y-link"));
  const out = join(dir, "layer1.tar");
  execFileSync("tar", ["--format=pax", "-C", src, "-cf", out, "."]);
  return readFileSync(out);
}

async function mount(source: string, options: ArtifactBundleOptions = {}) {
  const ws = new Workspace({ mounts: { [ROOT]: ArtifactBundle(source, options) } });
  return ws;
}

async function refusal(source: string, options: ArtifactBundleOptions = {}): Promise<MountError> {
  const { api, calls } = recordingApi();
  try {
    await ArtifactBundle(source, options).materialize({ ...api, root: ROOT });
  } catch (error) {
    expect(MountError.isInstance(error), String(error)).toBe(true);
    expect(calls, "nothing may be written before the refusal").toEqual([]);
    return error as MountError;
  }
  throw new Error(`${source} was mounted, but should have been refused`);
}

beforeAll(async () => {
  registry = await startOciRegistry();
  work = mkdtempSync(join(tmpdir(), "ws-artifact-oci-"));
  const layout = new OciLayout(join(work, "layout"));
  const layer1 = gnuTarLayer(work);
  const layer2 = tar([
    { name: "a/.wh.x.txt", data: "" },
    { name: ".wh.b", data: "" },
    { name: "c/.wh..wh..opq", data: "" },
    { name: "c/new.txt", data: "new in layer 2\n" },
    { name: "a/y.txt", data: "y from layer 2\n" },
    { name: "d/", type: "5", mode: 0o750 },
  ]);
  manifests.image = layout.image("image", [
    { bytes: gzip(layer1), mediaType: GZ, diffId: sha256Digest(layer1) },
    { bytes: layer2, mediaType: TAR, diffId: sha256Digest(layer2) },
  ]);
  manifests.artifact = layout.artifact("artifact", [
    { title: "model.bin", bytes: new Uint8Array([0, 1, 2, 3, 255]) },
    { title: "config/settings.json", bytes: '{"a":1}', mediaType: "application/json" },
    { title: "README.md", bytes: "# model\n", mediaType: "text/markdown" },
  ]);
  // A layer declared gzip whose bytes are a plain tar.
  manifests.liar = layout.image("liar", [{ bytes: layer2, mediaType: GZ, diffId: sha256Digest(layer2) }]);
  // Hostile content inside a well-formed image.
  const evil = tar([{ name: "../../etc/cron.d/evil", data: "* * * * * root sh\n" }]);
  manifests.evil = layout.image("evil", [{ bytes: gzip(evil), mediaType: GZ, diffId: sha256Digest(evil) }]);
  manifests.badTitle = layout.artifact("bad-title", [{ title: "../outside.txt", bytes: "x" }]);
  // Pushed, then their stored bytes are replaced on the registry's disk (below).
  const other = tar([{ name: "other.txt", data: "other" }]);
  manifests.tamperLayer = layout.image("tamper-layer", [
    { bytes: gzip(other), mediaType: GZ, diffId: sha256Digest(other) },
  ]);
  manifests.tamperManifest = layout.artifact("tamper-manifest", [{ title: "t.txt", bytes: "t" }]);
  const amd = tar([{ name: "arch.txt", data: "amd64" }]);
  const arm = tar([{ name: "arch.txt", data: "arm64" }]);
  const amdImage = layout.image("multi-amd64", [
    { bytes: gzip(amd), mediaType: GZ, diffId: sha256Digest(amd) },
  ]);
  const armImage = layout.image("multi-arm64", [
    { bytes: gzip(arm), mediaType: GZ, diffId: sha256Digest(arm) },
  ]);
  layout.index("multi", [
    { manifest: amdImage, os: "linux", architecture: "amd64" },
    { manifest: armImage, os: "linux", architecture: "arm64" },
  ]);
  for (const tag of [
    "multi",
    "image",
    "artifact",
    "liar",
    "evil",
    "bad-title",
    "tamper-layer",
    "tamper-manifest",
  ])
    await registry.push(layout.dir, tag, REPO);
  // Same length, different bytes: only a digest check can tell.
  const layerDigest = (
    JSON.parse(new TextDecoder().decode(layout.read(manifests.tamperLayer.digest))) as {
      layers: Descriptor[];
    }
  ).layers[0]?.digest as string;
  const layerPath = registry.blobPath(layerDigest);
  const layerBytes = readFileSync(layerPath);
  const at = layerBytes.length - 9;
  layerBytes[at] = (layerBytes[at] as number) ^ 0xff;
  writeFileSync(layerPath, layerBytes);
  const manifestPath = registry.blobPath(manifests.tamperManifest.digest);
  writeFileSync(manifestPath, readFileSync(manifestPath).toString("latin1").replace('"t.txt"', '"u.txt"'));
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("OCI image", () => {
  test("layers are applied in order, whiteouts and opaque directories delete from lower layers", async () => {
    const ws = await mount(ref("image"));
    try {
      const text = async (p: string) =>
        new TextDecoder().decode((await ws.fs.readFile(`${ROOT}/${p}`)) as Uint8Array);
      expect(await text("a/y.txt")).toBe("y from layer 2\n");
      expect(await text("c/new.txt")).toBe("new in layer 2\n");
      expect(await ws.fs.exists(`${ROOT}/a/x.txt`)).toBe(false);
      expect(await ws.fs.exists(`${ROOT}/b`)).toBe(false);
      expect(await ws.fs.exists(`${ROOT}/c/old.txt`)).toBe(false);
      expect((await ws.fs.readdir(`${ROOT}/c`)).sort()).toEqual(["new.txt"]);
      expect(Number((await ws.fs.stat(`${ROOT}/bin/tool`)).mode) & 0o777).toBe(0o755);
      expect(Number((await ws.fs.stat(`${ROOT}/d`)).mode) & 0o777).toBe(0o750);
      expect(await ws.fs.readlink(`${ROOT}/etc/y-link`)).toBe("../a/y.txt");
      expect(await text("etc/y-link")).toBe("y from layer 2\n");
      for (const name of (await ws.fs.readdir(ROOT)) as string[]) expect(name.startsWith(".wh.")).toBe(false);
    } finally {
      await ws.close();
    }
  });

  test("pulled by digest, and pinned with sha256", async () => {
    const digest = manifests.image?.digest as string;
    const ws = await mount(`oci://${registry.host}/${REPO}@${digest}`);
    try {
      expect(await ws.fs.exists(`${ROOT}/c/new.txt`)).toBe(true);
    } finally {
      await ws.close();
    }
    const pinned = await mount(ref("image"), { sha256: digest });
    try {
      expect(await pinned.fs.exists(`${ROOT}/c/new.txt`)).toBe(true);
    } finally {
      await pinned.close();
    }
  });
});

describe("OCI image index", () => {
  test("the platform's manifest is picked (default linux/amd64); a missing platform is ENOENT", async () => {
    for (const [platform, expected] of [
      [undefined, "amd64"],
      ["linux/arm64", "arm64"],
    ] as const) {
      const ws = await mount(ref("multi"), platform ? { platform } : {});
      try {
        expect(new TextDecoder().decode((await ws.fs.readFile(`${ROOT}/arch.txt`)) as Uint8Array)).toBe(
          expected,
        );
      } finally {
        await ws.close();
      }
    }
    const error = await refusal(ref("multi"), { platform: "linux/s390x" });
    expect(error.code).toBe("ENOENT");
    expect(error.message).toContain("linux/amd64, linux/arm64");
  });
});

describe("OCI artifact", () => {
  test("each layer is the file its title annotation names, bytes verified", async () => {
    const ws = await mount(ref("artifact"));
    try {
      expect([...((await ws.fs.readFile(`${ROOT}/model.bin`)) as Uint8Array)]).toEqual([0, 1, 2, 3, 255]);
      expect(
        new TextDecoder().decode((await ws.fs.readFile(`${ROOT}/config/settings.json`)) as Uint8Array),
      ).toBe('{"a":1}');
      expect(((await ws.fs.readdir(ROOT)) as string[]).sort()).toEqual(["README.md", "config", "model.bin"]);
    } finally {
      await ws.close();
    }
  });
});

describe("OCI: hostile or damaged", () => {
  test("a layer whose bytes are not its media type (gzip declared, plain tar served) → EINVAL", async () => {
    const error = await refusal(ref("liar"));
    expect(error.code).toBe("EINVAL");
    expect(error.message).toContain("declared application/vnd.oci.image.layer.v1.tar+gzip");
  });

  test("a layer blob whose bytes do not match its digest → EIO naming both digests", async () => {
    const error = await refusal(ref("tamper-layer"));
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}/);
  });

  test("a manifest whose bytes do not match the digest asked for → EIO naming both digests", async () => {
    const digest = manifests.tamperManifest?.digest as string;
    const error = await refusal(`oci://${registry.host}/${REPO}@${digest}`);
    expect(error.code).toBe("EIO");
    expect(error.message).toContain(`expected ${digest}, got sha256:`);
    const pinned = await refusal(ref("tamper-manifest"), { sha256: digest });
    expect(pinned.code).toBe("EIO");
  });

  test("a well-formed image whose layer climbs out of the root → EINVAL", async () => {
    expect((await refusal(ref("evil"))).code).toBe("EINVAL");
  });

  test("an artifact title that climbs out of the root → EINVAL", async () => {
    expect((await refusal(ref("bad-title"))).code).toBe("EINVAL");
  });

  test("a missing tag → ENOENT; a missing repository → ENOENT", async () => {
    expect((await refusal(ref("no-such-tag"))).code).toBe("ENOENT");
    expect((await refusal(`oci://${registry.host}/no/such:tag`)).code).toBe("ENOENT");
  });

  test("a digest pinned with sha256 that contradicts the reference → EINVAL", async () => {
    const digest = manifests.image?.digest as string;
    expect((await refusal(`oci://${registry.host}/${REPO}@${digest}`, { sha256: "1".repeat(64) })).code).toBe(
      "EINVAL",
    );
  });
});

describe("OCI registry with Basic authentication (htpasswd)", () => {
  const password = "pa55-word-never-in-errors";
  let secured: OciRegistryServer;
  beforeAll(async () => {
    secured = await startOciRegistry({ basicAuth: { username: "agent", password } });
    const layout = new OciLayout(join(work, "secured-layout"));
    layout.artifact("v1", [{ title: "secret.txt", bytes: "classified" }]);
    await secured.push(layout.dir, "v1", REPO);
  }, 120_000);
  afterAll(async () => {
    await secured?.stop();
  });

  test("anonymous is EACCES; the right credentials mount; a wrong password is EACCES and never echoed", async () => {
    const reference = `oci://${secured.host}/${REPO}:v1`;
    expect((await refusal(reference)).code).toBe("EACCES");
    const ws = await mount(reference, { registry: { username: "agent", password } });
    try {
      expect(new TextDecoder().decode((await ws.fs.readFile(`${ROOT}/secret.txt`)) as Uint8Array)).toBe(
        "classified",
      );
    } finally {
      await ws.close();
    }
    const wrong = "wrong-password-xyz";
    const error = await refusal(reference, { registry: { username: "agent", password: wrong } });
    expect(error.code).toBe("EACCES");
    expect(`${error.message}\n${String(error.stack)}`).not.toContain(wrong);
  });
});
