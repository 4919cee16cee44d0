// Geometry of a sliding window (convolutions and pools) over an NHWC batch.

import { convAxis, type Padding } from '../graph.js';

export interface WindowGeometry {
  batch: number;
  inH: number; inW: number; inC: number;
  outH: number; outW: number;
  kH: number; kW: number;
  strideH: number; strideW: number;
  /** Leading padding in input pixels (TFLite SAME rule; 0 for VALID). */
  padTop: number; padLeft: number;
}

export function windowGeometry(
  inShape: readonly number[], batch: number, kernel: readonly [number, number],
  stride: readonly [number, number], padding: Padding,
): WindowGeometry {
  const [inH, inW, inC] = inShape;
  const rows = convAxis(inH, kernel[0], stride[0], padding);
  const cols = convAxis(inW, kernel[1], stride[1], padding);
  return {
    batch, inH, inW, inC, outH: rows.out, outW: cols.out, kH: kernel[0], kW: kernel[1],
    strideH: stride[0], strideW: stride[1], padTop: rows.padBefore, padLeft: cols.padBefore,
  };
}
