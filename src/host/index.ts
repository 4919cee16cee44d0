// Sparrow's public host API: the same in Node, browsers and WebViews.
export { Model, type TensorInfo, type TensorDType } from './model.js';
export { Session, type SessionOptions, type MemoryReport, type TensorData } from './session.js';
export { Trainer } from './trainer.js';
export { bestBuild, setDefaultWasm, type Build, type WasmSource } from './runtime.js';
export { readNpy, writeNpy, type NpyArray } from './npy.js';
export { DEVICES, getDevice, type DeviceProfile } from '../compiler/devices.js';
export { ModelBuilder } from '../compiler/builder.js';
export { quantizeGraph } from '../compiler/ptq.js';
export { lowerModel } from '../compiler/lower.js';
export { parseModelJson, modelToJson } from '../formats/model_json.js';
export { readContainer, writeContainer } from '../formats/container.js';
export type { QModel } from '../formats/qmodel.js';
export { SparrowError, FormatError, ShapeError, ValueError, BudgetError, DeviceError } from '../formats/errors.js';
