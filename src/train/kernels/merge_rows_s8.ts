// The whole int8 filter of a layer that trains only some output channels (op MERGE_ROWS): the
// frozen filter as deployed, with the trained rows copied over their channels. The forward and
// input-gradient kernels then read the result as they would the deployed filter.
//
//   filter    int8 [outC][rowBytes]    the deployed filter (flash), read
//   rows      int8 [count][rowBytes]   the trained rows: row i holds channel selected[i], read
//   selected  i32 [count]              output channels, each in [0, outC)
//   out       int8 [outC][rowBytes]    written; overlaps neither filter nor rows
//
// Returns BAD_ARGUMENT (out untouched) when a listed channel is out of range.
import { Status } from '../../formats/schema';
import { channelsInRange } from './sgd_step';

export function merge_rows_s8(filter: usize, outC: i32, rowBytes: i32, rows: usize, selected: usize, count: i32, out: usize): i32 {
  if (outC < 0 || rowBytes < 0 || !channelsInRange(selected, count, outC)) return Status.BAD_ARGUMENT;
  memory.copy(out, filter, <usize>outC * <usize>rowBytes);
  for (let i = 0; i < count; i++) {
    const c = load<i32>(selected + (<usize>i << 2));
    memory.copy(out + <usize>c * <usize>rowBytes, rows + <usize>i * <usize>rowBytes, <usize>rowBytes);
  }
  return Status.OK;
}
