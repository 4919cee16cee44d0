// `sparrow unpack` of containers with streamed expand -> depthwise pairs (raise.ts): each
// EXPAND_DEPTHWISE op splits back into its 1x1 convolution and depthwise convolution with the
// original names, filters, biases, weight scales and expanded tensor, so unpacking the fused
// container gives the model the unfused one gives, and packing it again with the same options
// gives the fused container byte for byte (MobileNetV2-w0.35 64x64 and the reference CNN).
import { describe, expect, it } from 'vitest';
import { lowerModel, type LowerOptions } from '../src/compiler/lower.js';
import { mobilenetV2, referenceCnn } from '../src/compiler/models.js';
import { quantizeGraph } from '../src/compiler/ptq.js';
import { raiseContainer } from '../src/compiler/raise.js';
import { readContainer, writeContainer } from '../src/formats/container.js';
import type { QModel } from '../src/formats/qmodel.js';
import { Op } from '../src/formats/schema.js';
import { Random } from '../src/host/random.js';

const rng = new Random(0x7a1);
const random = (n: number) => Float32Array.from({ length: n }, () => rng.next());
const models: [string, QModel, number][] = [
  ['MobileNetV2-w0.35 64x64', quantizeGraph(mobilenetV2(3, 0.35, 64, 2), random(2 * 64 * 64 * 3), { batchSize: 2, percentile: 100 }), 16],
  ['reference CNN', quantizeGraph(referenceCnn(2), random(4 * 784), { batchSize: 4 }), 1],
];

/** The container after a trip through its bytes, as `sparrow unpack` reads it. */
const unpack = (q: QModel, options: LowerOptions) => raiseContainer(readContainer(writeContainer(lowerModel(q, options).container)));
/** Byte equality with the first differing offset in the message (toEqual on 100s of KB is slow). */
function expectSameBytes(a: Uint8Array, b: Uint8Array, what: string): void {
  const at = a.findIndex((v, i) => v !== b[i]);
  expect(a.length === b.length && at < 0, `${what}: ${a.length} vs ${b.length} B, first difference at ${at}`).toBe(true);
}
/** Tensors by name: the QModel's order of tensors is not part of its meaning. */
const byName = (q: QModel) => ({ ...q, tensors: [...q.tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) });

describe('unpack of streamed expand -> depthwise pairs', () => {
  for (const [label, qmodel, pairs] of models) {
    const always: LowerOptions = { sparse: 'never', fuse: 'always' };
    const fused = lowerModel(qmodel, always).container;

    it(`${label}: the fused container unpacks to the model the unfused one unpacks to`, () => {
      expect(fused.ops.filter((o) => o.op === Op.EXPAND_DEPTHWISE)).toHaveLength(pairs);
      const a = unpack(qmodel, always);
      const b = unpack(qmodel, { sparse: 'never', fuse: 'never' });
      expect(a.ops).toHaveLength(qmodel.ops.length);
      expect(byName(a)).toEqual(byName(b));
    });

    it(`${label}: packing the unpacked model with the same options gives the fused container byte for byte`, () => {
      const again = lowerModel(unpack(qmodel, always), always).container;
      expectSameBytes(writeContainer(again), writeContainer(fused), label);
    });

    it(`${label}: without the names in META it still splits and packs back to the same records`, () => {
      const anonymous = { ...fused, meta: { ...fused.meta, fusedPairs: undefined } };
      const raised = raiseContainer(anonymous);
      const first = fused.ops.find((o) => o.op === Op.EXPAND_DEPTHWISE)!;
      const out = fused.names![first.output];
      expect(raised.ops.find((o) => o.outputs[0] === `${out}.expanded`)?.op).toBe('conv2d');
      expect(raised.ops.find((o) => o.outputs[0] === out)?.inputs.slice(0, 2)).toEqual([`${out}.expanded`, `${out}.depthwise_weights`]);
      const again = lowerModel(raised, always).container;
      expect(again.tensors).toEqual(fused.tensors);
      expect(again.ops).toEqual(fused.ops);
      expectSameBytes(again.data, fused.data, `${label} DATA`);
    });
  }
});
