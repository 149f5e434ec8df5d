/** @module Atomic file writes, shared by every layer that writes value or evidence to disk (card images, the host journal, packets, keys): temp file in the same directory, fsync, rename, fsync of the directory; a reader sees the old file or the new one, never a part, also after a crash or a power cut. */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/** Files that hold value or evidence of it are for their owner only. */
export const PRIVATE_FILE_MODE = 0o600;

/** Names of temp files writeFileAtomic leaves behind only when killed: readers of a directory skip them. */
export function isAtomicTempName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

/**
 * Writes `data` to `path` so that, whatever happens, `path` holds either its previous content (or
 * nothing) or all of `data`: the bytes go to a temp file in the same directory (rename is atomic only
 * within one file system), are fsynced, the temp file is renamed over `path`, and the directory is
 * fsynced so the rename itself survives a power cut (POSIX rename(2); ext4 and XFS need the directory
 * fsync). The mode is forced with fchmod, as open()'s mode is filtered by the umask. Throws the fs
 * error (ENOENT, EACCES, ENOSPC, EISDIR...) after removing the temp file.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, mode: number = PRIVATE_FILE_MODE): void {
  const target = resolve(path);
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  // 'wx': never follows a planted symlink or reuses a file
  const fd = openSync(tmp, 'wx', mode);
  try {
    try {
      fchmodSync(fd, mode);
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    removeQuietly(tmp);
    throw e;
  }
  fsyncDirectory(dir);
}

/** Removes a file and makes the removal durable (fsync of its directory). */
export function unlinkDurably(path: string): void {
  const target = resolve(path);
  unlinkSync(target);
  fsyncDirectory(dirname(target));
}

/** fsync of a directory, so that names created, renamed or removed in it survive a power cut. */
export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } catch (e) {
    // Some file systems (and Windows) refuse fsync on a directory; there is nothing more to do there.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM' && code !== 'EBADF') throw e;
  } finally {
    closeSync(fd);
  }
}

/**
 * Why a file could not be written at `path` with writeFileAtomic, found by creating and removing a
 * temp file beside it; undefined when it can. Writes nothing that stays. Does not refuse an existing
 * file: callers that must not replace one check that themselves.
 */
export function whyNotWritable(path: string): string | undefined {
  const target = resolve(path);
  const dir = dirname(target);
  const kind = statOrUndefined(target);
  if (kind?.isDirectory()) return `${path} is a directory`;
  const dirKind = statOrUndefined(dir);
  if (!dirKind) return `directory ${dir} does not exist`;
  if (!dirKind.isDirectory()) return `${dir} is not a directory`;
  const probe = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.probe.tmp`);
  try {
    closeSync(openSync(probe, 'wx', PRIVATE_FILE_MODE));
  } catch (e) {
    return `cannot write in directory ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  removeQuietly(probe);
  return undefined;
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or the directory went away: nothing was left to clean up
  }
}
