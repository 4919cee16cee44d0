// The device validator of group-sparse blobs as exports, so tests can fuzz it against the host's.
import { sparseWeightsFault } from '../sparse_weights';

/** Offset of the first broken field of the blob [ptr, ptr + len), or -1 when valid. */
export function probe_sparse_weights_fault(ptr: usize, len: u32, outC: u32, inC: u32): i32 { return sparseWeightsFault(ptr, len, outC, inC); }
