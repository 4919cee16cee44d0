// Dense or group-sparse for one 1x1 convolution / fully connected layer, from the time model
// measured by bench/sparse_cost_model.ts (src/compiler/sparse_cost_model.json: microseconds per
// call on the measuring machine, per build, kind and group size; fit errors recorded there).
// Only the ratio of the two costs matters for the choice; the absolute numbers are that
// machine's. Sparse must also not cost flash: its blob must be no larger than the dense
// weights (outC * inC bytes). In scalar code the sparse kernel can beat the dense one even
// with no zero groups, but a blob with few zeros is bigger than the weights it replaces.
import { sparseBlobBytes } from '../formats/sparse.js';
import model from './sparse_cost_model.json' with { type: 'json' };

export type SparseKind = 'conv1x1' | 'fc';
export type SparseBuild = 'mvp' | 'simd';

interface LinearFit { features: string[]; coefficients: number[] }

function evaluate(fit: LinearFit, values: Record<string, number>): number {
  return fit.features.reduce((sum, f, i) => sum + fit.coefficients[i] * values[f], 0);
}

/**
 * Predicted dense and sparse times of a layer (rows = pixels or batch rows, nonzeroGroups = the
 * blob's group count for group size g) and whether the sparse kernel is faster.
 */
export function chooseSparse(kind: SparseKind, rows: number, inC: number, outC: number, g: number, nonzeroGroups: number, build: SparseBuild): { sparse: boolean; denseCost: number; sparseCost: number; reason: string } {
  const sparseFit = (model.sparse[build][kind] as Record<string, LinearFit>)[String(g)];
  if (!sparseFit) throw new RangeError(`no sparse cost model for group size ${g} (have ${Object.keys(model.sparse[build][kind]).join(', ')})`);
  const values = { '1': 1, 'rows*outC': rows * outC, 'rows*outC*inC': rows * outC * inC, 'rows*nonzeroGroups': rows * nonzeroGroups };
  const denseCost = evaluate(model.dense[build][kind], values);
  const sparseCost = evaluate(sparseFit, values);
  const sparseBytes = sparseBlobBytes(outC, inC, g, nonzeroGroups), denseBytes = outC * inC;
  const faster = sparseCost < denseCost, smaller = sparseBytes <= denseBytes;
  const sparse = faster && smaller;
  const sparsity = 1 - nonzeroGroups / ((outC / g) * inC);
  const reason = `${build} ${kind} ${rows}x${inC}->${outC}, g ${g}, ${(100 * sparsity).toFixed(1)}% zero groups: ` +
    `sparse ${sparseCost.toFixed(2)} us vs dense ${denseCost.toFixed(2)} us (model of ${model.date}), ` +
    `sparse ${sparseBytes} B vs dense ${denseBytes} B` + (faster && !smaller ? ': dense, the blob would be larger' : '');
  return { sparse, denseCost, sparseCost, reason };
}
