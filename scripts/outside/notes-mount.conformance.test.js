import { describeMountConformance } from "@ws/testkit/vitest";
import { NotesMount } from "./notes-mount.js";

const notes = new Map();
let n = 0;

describeMountConformance(
  "notes",
  {
    async setup(caseId) {
      const root = `${caseId}-${++n}`;
      const mine = () => [...notes.keys()].filter((k) => k.startsWith(`${root}/`));
      return {
        async seed(files) {
          for (const [key, bytes] of Object.entries(files))
            notes.set(`${root}/${key}`, { bytes: new Uint8Array(bytes), mtime: Date.now() });
        },
        createMount({ prefix, ...options } = {}) {
          return NotesMount(notes, { ...options, prefix: prefix ? `${root}/${prefix}` : root });
        },
        async readBackend(path) {
          const note = notes.get(`${root}/${path}`);
          return note ? new Uint8Array(note.bytes) : undefined;
        },
        async listBackend() {
          return mine().map((k) => k.slice(root.length + 1));
        },
        async cleanup() {
          for (const key of mine()) notes.delete(key);
        },
      };
    },
  },
  {
    write: "supported",
    delete: "supported",
    conditionalPut: { status: "unsupported", reason: "notes have no versions" },
  },
);
