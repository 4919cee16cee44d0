// sparrow.wasi.wasm: the mvp executor as a WASI preview1 command.
//
//   sparrow.wasi.wasm [--budget BYTES] [MODEL|-] [INPUT|-]
//
// Reads a container and the raw bytes of each graph input (in order), runs inference once
// and writes the raw bytes of every output (in order) to stdout. A missing or `-` path
// means stdin; with both on stdin the container comes first (its header gives its length),
// then the inputs. The budget is the SRAM granted to the arena (default: unlimited, the
// plan's own size). Exit code: 0, or the Status that stopped it (64 for a usage error).
import {
  container_buffer, input_bytes, input_count, input_ptr, load as loadContainer, output_bytes, output_count, output_ptr, run,
} from '../../src/runtime/index';
import { HEADER_BYTES, Status } from '../../src/formats/schema';
import { close, openForReading, readExactly, say, writeAll } from './io';
import { args_get, args_sizes_get, proc_exit, STDIN, STDOUT } from './wasi';

const EXIT_USAGE: u32 = 64;
const ARGS_MAX: u32 = 4096;
const ARGV_MAX: u32 = 16;
const ARGV = memory.data(ARGV_MAX * 4, 4);
const ARGS = memory.data(4096, 4);
const SIZES = memory.data(8, 4);
const HEADER = memory.data(32, 16);
const BUDGET_FLAG = memory.data<u8>([0x2d, 0x2d, 0x62, 0x75, 0x64, 0x67, 0x65, 0x74]); // "--budget"
const BUDGET_FLAG_LEN: u32 = 8;

function fail(code: u32, text: string): void {
  // `text` is a static string: its UTF-16 payload is converted to ASCII in place of a copy.
  const len = <u32>text.length;
  const ascii = ARGS; // arguments are no longer needed once we fail
  for (let i: u32 = 0; i < len && i < ARGS_MAX; i++) store<u8>(ascii + i, <u8>text.charCodeAt(i));
  say(ascii, min(len, ARGS_MAX));
  proc_exit(code);
}

function argPtr(i: u32): usize { return <usize>load<u32>(ARGV + i * 4); }
function argLen(i: u32): u32 { let n: u32 = 0; const p = argPtr(i); while (load<u8>(p + n) != 0) n++; return n; }
function isDash(i: u32): bool { return argLen(i) == 1 && load<u8>(argPtr(i)) == 0x2d; }

function parseUnsigned(i: u32): i64 {
  const p = argPtr(i);
  const n = argLen(i);
  if (n == 0 || n > 10) return -1;
  let v: i64 = 0;
  for (let k: u32 = 0; k < n; k++) {
    const c = <i32>load<u8>(p + k) - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v <= 0xffffffff ? v : -1;
}

/** Opens argument `i` (or stdin when absent / `-`). */
function source(i: u32, argc: u32): u32 {
  if (i >= argc || isDash(i)) return STDIN;
  const fd = openForReading(argPtr(i), argLen(i));
  if (fd < 0) fail(<u32>Status.IO_ERROR, "sparrow: cannot open a path argument (is its directory preopened?)\n");
  return <u32>fd;
}

function main(): void {
  if (args_sizes_get(SIZES, SIZES + 4) != 0) fail(EXIT_USAGE, "sparrow: cannot read arguments\n");
  const argc = load<u32>(SIZES);
  if (argc > ARGV_MAX || load<u32>(SIZES, 4) > ARGS_MAX) fail(EXIT_USAGE, "sparrow: too many or too long arguments\n");
  args_get(ARGV, ARGS);

  let budget: u32 = 0xffffffff;
  let first: u32 = 1; // argv[0] is the program
  if (argc > 2 && argLen(1) == BUDGET_FLAG_LEN && memory.compare(argPtr(1), BUDGET_FLAG, BUDGET_FLAG_LEN) == 0) {
    const v = parseUnsigned(2);
    if (v < 0) fail(EXIT_USAGE, "sparrow: --budget takes a byte count\n");
    budget = <u32>v;
    first = 3;
  }
  if (argc > first + 2) fail(EXIT_USAGE, "usage: sparrow.wasi.wasm [--budget BYTES] [MODEL|-] [INPUT|-]\n");

  const modelFd = source(first, argc);
  if (!readExactly(modelFd, HEADER, <u32>HEADER_BYTES)) fail(<u32>Status.TRUNCATED, "sparrow: the container ends inside its header\n");
  const len = load<u32>(HEADER, 8);
  if (len < <u32>HEADER_BYTES) fail(<u32>Status.TRUNCATED, "sparrow: the container's length field is too small\n");
  const ptr = container_buffer(len);
  if (ptr == 0) fail(<u32>Status.OUT_OF_MEMORY, "sparrow: no memory for the container\n");
  memory.copy(ptr, HEADER, <usize>HEADER_BYTES);
  if (!readExactly(modelFd, ptr + <usize>HEADER_BYTES, len - <u32>HEADER_BYTES)) fail(<u32>Status.TRUNCATED, "sparrow: the container is shorter than its length field\n");
  if (modelFd != STDIN) close(modelFd);

  const status = loadContainer(len, budget);
  if (status == Status.OVER_BUDGET) fail(<u32>status, "sparrow: the plan's arena does not fit the budget\n");
  if (status != Status.OK) fail(<u32>status, "sparrow: the container is invalid\n");

  const inputFd = source(first + 1, argc);
  for (let i: u32 = 0; i < input_count(); i++) {
    if (!readExactly(inputFd, input_ptr(i), input_bytes(i))) fail(<u32>Status.BAD_INPUT, "sparrow: the input is shorter than the model's input tensor\n");
  }
  const ran = run();
  if (ran == Status.BAD_INPUT) fail(<u32>ran, "sparrow: the input holds a non-finite value\n");
  if (ran != Status.OK) fail(<u32>ran, "sparrow: inference failed\n");
  for (let i: u32 = 0; i < output_count(); i++) {
    if (!writeAll(STDOUT, output_ptr(i), output_bytes(i))) fail(<u32>Status.IO_ERROR, "sparrow: cannot write the output\n");
  }
}

main();
