// Byte I/O over WASI file descriptors with static scratch (no allocation).
import { fd_close, fd_prestat_dir_name, fd_prestat_get, fd_read, fd_write, path_open, RIGHT_FD_READ, STDERR } from './wasi';

const IOVEC = memory.data(16, 8); // one iovec { ptr: u32, len: u32 } + the result count
const PRESTAT = memory.data(8, 4);
const NAME_MAX: u32 = 256;
const NAME = memory.data(256, 4);

/** Reads exactly `len` bytes into `dst`; returns false on EOF or error first. */
export function readExactly(fd: u32, dst: usize, len: u32): bool {
  let done: u32 = 0;
  while (done < len) {
    store<u32>(IOVEC, <u32>(dst + done));
    store<u32>(IOVEC, len - done, 4);
    if (fd_read(fd, IOVEC, 1, IOVEC + 8) != 0) return false;
    const n = load<u32>(IOVEC, 8);
    if (n == 0) return false;
    done += n;
  }
  return true;
}

export function writeAll(fd: u32, src: usize, len: u32): bool {
  let done: u32 = 0;
  while (done < len) {
    store<u32>(IOVEC, <u32>(src + done));
    store<u32>(IOVEC, len - done, 4);
    if (fd_write(fd, IOVEC, 1, IOVEC + 8) != 0) return false;
    const n = load<u32>(IOVEC, 8);
    if (n == 0) return false;
    done += n;
  }
  return true;
}

/** Writes a static ASCII message to stderr (`text` is a pointer from memory.data). */
export function say(text: usize, len: u32): void {
  writeAll(STDERR, text, len);
}

/**
 * Opens `path` (absolute, e.g. /data/model.spw) for reading through the preopened directory
 * whose name is its longest prefix. Returns the fd, or -1.
 */
export function openForReading(path: usize, pathLen: u32): i32 {
  let bestFd: i32 = -1;
  let bestLen: u32 = 0;
  for (let fd: u32 = 3; fd < 64; fd++) {
    if (fd_prestat_get(fd, PRESTAT) != 0) break;
    const nameLen = load<u32>(PRESTAT, 4);
    if (nameLen > NAME_MAX || nameLen > pathLen) continue;
    if (fd_prestat_dir_name(fd, NAME, nameLen) != 0) continue;
    let used = nameLen;
    while (used > 0 && load<u8>(NAME + used - 1) == 0x2f) used--; // "/data/" and "/" both match
    if (memory.compare(NAME, path, used) != 0) continue;
    if (used < pathLen && load<u8>(path + used) != 0x2f && used != 0) continue;
    if (used >= bestLen) { bestFd = <i32>fd; bestLen = used; }
  }
  if (bestFd < 0) return -1;
  let rest = path + bestLen;
  let restLen = pathLen - bestLen;
  while (restLen > 0 && load<u8>(rest) == 0x2f) { rest++; restLen--; }
  if (path_open(<u32>bestFd, 1, rest, restLen, 0, RIGHT_FD_READ, 0, 0, PRESTAT) != 0) return -1;
  return <i32>load<u32>(PRESTAT);
}

export function close(fd: u32): void {
  fd_close(fd);
}
