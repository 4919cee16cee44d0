// The quantized model description: what `sparrow pack` reads from JSON and `unpack`
// writes back. It is the int8 graph as a person would describe it (TFLite-like): tensors
// with explicit data and quant params, ops with their options. Device-only details
// (requantization multipliers, explicit paddings, activation ranges, arena offsets) are
// derived from it by the compiler's lowering (src/compiler/lower.ts).

export type DTypeName = 'int8' | 'int32' | 'float32' | 'uint8';

export interface QuantParams {
  /** One scale per tensor, or one per output channel: axis 0 for conv/FC filters, the last axis (C) for depthwise [1,kH,kW,C]. */
  scale: number[];
  /** Same length as `scale`; 0 for weights. */
  zeroPoint: number[];
}

export interface QTensor {
  name: string;
  /** NHWC for activations; OHWI for conv filters, 1HWC for depthwise, [out, in] for FC. */
  shape: number[];
  dtype: DTypeName;
  quant?: QuantParams;
  /** Constant data (weights, biases); absent for activations. */
  data?: number[];
}

export type OpName =
  | 'conv2d' | 'depthwise_conv2d' | 'fully_connected' | 'add'
  | 'avg_pool' | 'max_pool' | 'global_avg_pool' | 'reshape'
  | 'softmax' | 'quantize' | 'dequantize';

export type Activation = 'none' | 'relu' | 'relu6';
export type Padding = 'same' | 'valid';

export interface QOp {
  op: OpName;
  /** Tensor names. conv/fc: [input, filter, bias?]. add: [a, b]. */
  inputs: string[];
  outputs: string[];
  /** conv, depthwise, pools: [strideH, strideW]; default [1, 1]. */
  stride?: [number, number];
  /** conv, depthwise, pools; default 'valid'. */
  padding?: Padding;
  /** pools: [filterH, filterW]. */
  filter?: [number, number];
  /** Fused activation of conv, depthwise, fc, add, pools; default 'none'. */
  activation?: Activation;
  /** softmax; default 1. */
  beta?: number;
}

export interface QModel {
  format: 'sparrow-model';
  version: 1;
  name?: string;
  tensors: QTensor[];
  ops: QOp[];
  inputs: string[];
  outputs: string[];
}
