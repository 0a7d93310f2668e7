import { describe, expect, it } from "vitest";
import { MountError } from "./errors.js";
import { type Page, paginate } from "./paginate.js";

async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<MountError> {
  try {
    await promise;
  } catch (error) {
    if (MountError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a failure");
}

describe("paginate", () => {
  it("walks every page, passing each cursor on", async () => {
    const seen: Array<number | undefined> = [];
    const pages = paginate<string, number>(
      async (cursor) => {
        seen.push(cursor);
        const at = cursor ?? 0;
        return { items: [`k${at}`], cursor: at + 1, truncated: at < 2 };
      },
      { what: "test" },
    );
    expect(await collect(pages)).toEqual([["k0"], ["k1"], ["k2"]]);
    expect(seen).toEqual([undefined, 1, 2]);
  });

  it("fails EIO on a truncated page without a cursor", async () => {
    const pages = paginate<string, string>(async () => ({ items: ["a"], truncated: true }), {
      what: "s3://b/",
    });
    const error = await failure(collect(pages));
    expect(error.code).toBe("EIO");
    expect(error.message).toMatch(/s3:\/\/b\/ was truncated but the server sent no cursor/);
  });

  it("fails EIO when a cursor comes back (a loop)", async () => {
    const pages = paginate<string, string>(
      async (cursor): Promise<Page<string, string>> => ({
        items: ["a"],
        cursor: cursor === "x" ? "y" : "x",
        truncated: true,
      }),
      { what: "loop" },
    );
    // x → y → x: the second x is a loop.
    const error = await failure(collect(pages));
    expect(error.message).toMatch(/returned cursor "x" twice/);
  });

  it("fails EIO naming the bound after maxPages", async () => {
    let n = 0;
    const pages = paginate<number, number>(async () => ({ items: [n], cursor: ++n, truncated: true }), {
      what: "many",
      maxPages: 3,
    });
    const error = await failure(collect(pages));
    expect(error.message).toMatch(/more than 3 pages \(maxPages\)/);
    expect(n).toBe(3);
  });
});
