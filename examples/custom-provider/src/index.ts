export { FolderMount, type FolderMountOptions } from "./folder-mount.js";
