import {
  close,
  fchmod,
  fchown,
  fstat,
  ftruncate,
  futimes,
  lstat,
  open,
  read,
  rename,
  type Stats,
  unlink,
  write,
} from "node:fs";

/*
 * The few fs calls a host directory makes per file, as promises over node:fs's callback API and
 * plain descriptors. `fs/promises` does the same work through a FileHandle object and a promise
 * request per call, which costs about twice the CPU (and, on a loaded machine, three times the
 * wall time) of the callback form for small files: `ws cp` of 10,000 files makes ten such calls
 * per file. A descriptor opened here is closed by the caller, in a `finally`.
 */

function settle<T>(resolve: (value: T) => void, reject: (error: unknown) => void) {
  return (error: NodeJS.ErrnoException | null, value: T): void => {
    if (error) reject(error);
    else resolve(value);
  };
}

function done(resolve: () => void, reject: (error: unknown) => void) {
  return (error: NodeJS.ErrnoException | null): void => {
    if (error) reject(error);
    else resolve();
  };
}

export function openFd(path: string, flags: number, mode?: number): Promise<number> {
  return new Promise((resolve, reject) => open(path, flags, mode, settle(resolve, reject)));
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, done(resolve, reject)));
}

export function fstatFd(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => fstat(fd, settle(resolve, reject)));
}

/** Reads at the descriptor's position; resolves with the number of bytes read (0 at the end). */
export function readFd(fd: number, into: Uint8Array, offset: number, length: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, into, offset, length, null, settle(resolve, reject)));
}

/** Writes every byte of `bytes` at `position` in the file (a write may take fewer bytes than asked). */
export async function writeAllFd(fd: number, bytes: Uint8Array, position: number): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    offset += await new Promise<number>((resolve, reject) =>
      write(fd, bytes, offset, bytes.byteLength - offset, position + offset, settle(resolve, reject)),
    );
  }
}

export function ftruncateFd(fd: number, length: number): Promise<void> {
  return new Promise((resolve, reject) => ftruncate(fd, length, done(resolve, reject)));
}

export function fchmodFd(fd: number, mode: number): Promise<void> {
  return new Promise((resolve, reject) => fchmod(fd, mode, done(resolve, reject)));
}

export function fchownFd(fd: number, uid: number, gid: number): Promise<void> {
  return new Promise((resolve, reject) => fchown(fd, uid, gid, done(resolve, reject)));
}

/** Sets the access and modification times, in seconds since the epoch. */
export function futimesFd(fd: number, atime: number, mtime: number): Promise<void> {
  return new Promise((resolve, reject) => futimes(fd, atime, mtime, done(resolve, reject)));
}

export function renamePath(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => rename(from, to, done(resolve, reject)));
}

export function lstatPath(path: string): Promise<Stats> {
  return new Promise((resolve, reject) => lstat(path, settle(resolve, reject)));
}

export function unlinkPath(path: string): Promise<void> {
  return new Promise((resolve, reject) => unlink(path, done(resolve, reject)));
}
