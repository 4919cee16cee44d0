// The few WASI preview1 calls the command uses, declared directly (no shim, no GC):
// what WAMR and wasm3 offer on microcontrollers. Every call returns a WASI errno (0 = ok).

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_read")
export declare function fd_read(fd: u32, iovs: usize, iovsLen: u32, nread: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_write")
export declare function fd_write(fd: u32, iovs: usize, iovsLen: u32, nwritten: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_close")
export declare function fd_close(fd: u32): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_prestat_get")
export declare function fd_prestat_get(fd: u32, prestat: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_prestat_dir_name")
export declare function fd_prestat_dir_name(fd: u32, path: usize, pathLen: u32): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "path_open")
export declare function path_open(dirfd: u32, dirflags: u32, path: usize, pathLen: u32, oflags: u16, rightsBase: u64, rightsInheriting: u64, fdflags: u16, fd: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "args_sizes_get")
export declare function args_sizes_get(argc: usize, bufSize: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "args_get")
export declare function args_get(argv: usize, buf: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "proc_exit")
export declare function proc_exit(code: u32): void;

export const STDIN: u32 = 0;
export const STDOUT: u32 = 1;
export const STDERR: u32 = 2;
/** fd_read right: the only one the command needs on files it opens. */
export const RIGHT_FD_READ: u64 = 2;
