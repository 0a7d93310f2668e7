import { describe, expect, it } from "vitest";
import { BUILTIN_PROVIDERS } from "./builtin-providers.js";
import { CliError } from "./cli-error.js";
import { parseMountSpec } from "./mount-spec.js";
import { ProviderRegistry, schemeOf } from "./provider-registry.js";
import { checkDestinations } from "./resolve-mounts.js";

describe("parseMountSpec: SRC:DEST[:ro|:rw]", () => {
  it.each([
    ["./data:/data", "./data", "/data", "read-only"],
    ["./out:/out:rw", "./out", "/out", "read-write"],
    ["/abs/dir:/in:ro", "/abs/dir", "/in", "read-only"],
    ["s3://bucket/prefix:/data", "s3://bucket/prefix", "/data", "read-only"],
    ["s3://bucket:/b:rw", "s3://bucket", "/b", "read-write"],
    ["github:owner/repo@v1.2:/src", "github:owner/repo@v1.2", "/src", "read-only"],
    ["https://host/tree/:/web", "https://host/tree/", "/web", "read-only"],
    ["bundle.tar.gz:/b", "bundle.tar.gz", "/b", "read-only"],
  ])("%s", (raw, source, target, mode) => {
    expect(parseMountSpec(raw)).toMatchObject({ source, target, mode });
  });

  it.each([
    ["./data:data", /DEST "data" .* is not absolute; write it as \/data/],
    ["./data", /has no DEST/],
    ["s3://bucket", /has no DEST/],
    ["", /needs a value/],
  ])("rejects %j in one line", (raw, message) => {
    const error = (() => {
      try {
        parseMountSpec(raw);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("\n");
  });
});

describe("parseMountSpec: the Docker-style long form", () => {
  it("reads type, src, dst, readonly, ignore, max-bytes and provider options", () => {
    expect(
      parseMountSpec(
        "type=s3,src=s3://b/p,dst=/data,readonly,ignore=*.log,ignore=tmp,max-bytes=1MB,endpoint=http://x",
      ),
    ).toMatchObject({
      type: "s3",
      source: "s3://b/p",
      target: "/data",
      mode: "read-only",
      ignore: ["*.log", "tmp"],
      maxBytes: 1024 * 1024,
      extra: { endpoint: "http://x" },
    });
    expect(parseMountSpec("type=fs,source=./o,target=/o,rw")).toMatchObject({ mode: "read-write" });
    expect(parseMountSpec("src=./o,dst=/o,readonly=false")).toMatchObject({ mode: "read-write" });
  });

  it("says which key is missing or wrong", () => {
    expect(() => parseMountSpec("type=fs,dst=/d")).toThrow(/no src=/);
    expect(() => parseMountSpec("type=fs,src=./d")).toThrow(/no dst=/);
    expect(() => parseMountSpec("type=fs,src=./d,dst=d")).toThrow(/not absolute/);
    expect(() => parseMountSpec("src=./d,dst=/d,max-bytes=lots")).toThrow(/max-bytes=lots .* not a number/);
  });
});

describe("checkDestinations", () => {
  it("rejects nested and repeated DESTs, naming both", () => {
    const specs = (...raws: string[]) => raws.map(parseMountSpec);
    expect(() => checkDestinations(specs("./a:/data", "./b:/data/sub"))).toThrow(
      /nested DESTs: \/data and \/data\/sub/,
    );
    expect(() => checkDestinations(specs("./a:/data", "./b:/data"))).toThrow(
      /two mounts have the DEST \/data/,
    );
    expect(() => checkDestinations(specs("./a:/data", "./b:/database"))).not.toThrow();
  });
});

describe("ProviderRegistry", () => {
  const registry = (): ProviderRegistry => {
    const r = new ProviderRegistry();
    for (const d of BUILTIN_PROVIDERS) r.register(d);
    return r;
  };

  it("finds a provider by scheme, by path shape, or by kind", () => {
    const r = registry();
    expect(r.forSource("s3://bucket/x").kind).toBe("s3");
    expect(r.forSource("./dir").kind).toBe("fs");
    expect(r.forSource("/abs").kind).toBe("fs");
    expect(r.forSource("file:///abs").kind).toBe("fs");
    expect(r.byKind("s3").kind).toBe("s3");
    expect(schemeOf("C:/x")).toBeUndefined();
  });

  it("names the installed providers for an unknown scheme or type", () => {
    const r = registry();
    expect(() => r.forSource("gs://b")).toThrow(
      /unknown scheme "gs:" in gs:\/\/b; installed: fs \(\.\/dir, \/abs\), s3 \(s3:\/\/bucket\/prefix\)/,
    );
    expect(() => r.byKind("gcs")).toThrow(/unknown mount type "gcs"; installed/);
  });

  it("lets a third party add a scheme, and refuses a second claim on one", () => {
    const r = registry();
    const gcs = {
      kind: "gcs",
      description: "GCS",
      schemes: ["gs"],
      example: "gs://b",
      options: [],
      create: () => {
        throw new Error("x");
      },
    };
    r.register(gcs);
    expect(r.forSource("gs://bucket").kind).toBe("gcs");
    expect(() => r.register({ ...gcs, kind: "gcs2" })).toThrow(/both claim the scheme gs:/);
  });
});
