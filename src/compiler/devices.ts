// Device profiles: the boards Sparrow plans for. Memory sizes come from the vendors'
// datasheets; throughput figures model *our* executor, which runs there as WebAssembly
// compiled ahead of time (WAMR AOT) to scalar code: no DSP/SIMD instructions, so it behaves
// like plain C, not like CMSIS-NN. Every figure's source or assumption is next to it and in
// docs/devices.md; replace assumptions with measurements from a board when there are some.

import { SparrowError } from '../formats/errors.js';

/** MAC throughput of the executor's scalar kernels, by kernel family. */
export interface MacRates {
  conv: number;
  depthwise: number;
  /** CONV1X1. */
  pointwise: number;
  fc: number;
}

/** Cycles per element of the non-MAC work. */
export interface ElementCosts {
  /** Requantizing one output of a MAC op (multiply-high, rounding shift, clamp). */
  requant: number;
  /** One ADD output: two input rescales, the output rescale, clamp. */
  add: number;
  /** One input element read by a pooling window (max/avg/global average). */
  pool: number;
  /** One SOFTMAX element: fixed-point exp, sum, reciprocal, scale. */
  softmax: number;
  /** One QUANTIZE/DEQUANTIZE element (float multiply, round, clamp). */
  convert: number;
}

export interface DeviceProfile {
  name: string;
  /** Human-readable summary: part, core, clock. */
  description: string;
  /** CPU core the executor runs on ("Cortex-M7"). */
  core: string;
  clockHz: number;
  /** On-chip SRAM, all regions (datasheet). */
  sramBytes: number;
  /**
   * SRAM the arena cannot use: firmware, native stack, the WebAssembly runtime and the module's
   * own static data, plus regions not contiguous with the one the linear memory lives in.
   * The arena budget is `sramBytes - reservedSramBytes`.
   */
  reservedSramBytes: number;
  flashBytes: number;
  /** Flash taken by firmware, the runtime and the AOT-compiled executor; the container gets the rest. */
  reservedFlashBytes: number;
  /** MACs per cycle of the executor's kernels. */
  macsPerCycle: MacRates;
  cyclesPerElement: ElementCosts;
  /** Fixed cost of one op: schedule step, pointer set-up, the call into the kernel. */
  opOverheadCycles: number;
}

const KIB = 1024;
const MIB = 1024 * KIB;

// ---- The executor on a Cortex-M7, the reference core; other cores are scaled from it. ----
// Scalar int8 kernels compiled ahead of time behave like TFLite Micro's reference C kernels:
// ~0.02 MAC/cycle for convolutions on a Cortex-M7 (MCUNet/TinyEngine tables, STM32H743;
// REFERENCES.md section 4), against ~0.22-0.26 for CMSIS-NN and ~0.46-0.53 for TinyEngine,
// which use SMLAD/SIMD that WebAssembly cannot reach on these boards.
const M7_MACS: MacRates = {
  conv: 0.02, // TFLM reference kernels on M7 (cited above)
  depthwise: 0.02, // assumption: same per-MAC work (index math + load + multiply per tap) as conv
  // assumption: a contiguous dot product per output, no window or padding index math;
  // taken as 1.5x the conv figure until measured.
  pointwise: 0.03,
  fc: 0.03,
};
// Assumptions from instruction counts of the scalar kernels (each wasm load/store also pays a
// bounds check under AOT on an MMU-less MCU), for a dual-issue M7:
const M7_ELEMENT: ElementCosts = {
  requant: 25, // SMULL-based high multiply + rounding shift + clamp + store, ~20 instructions
  add: 50, // three requantizations per element
  pool: 5, // load + compare/accumulate per window tap
  softmax: 300, // gemmlowp fixed-point exp (~150 ops) plus reciprocal and scaling, per element
  convert: 15, // single-precision FPU multiply, round, clamp
};
// assumption: reading a 64 B op record, resolving pointers and one call across the AOT boundary.
const OP_OVERHEAD_CYCLES = 1000;

/**
 * Per-cycle scalar performance relative to the Cortex-M7, from CoreMark/MHz (a plain-C
 * integer benchmark, the closest public proxy for AOT-compiled scalar code): Arm's published
 * figures M7 5.01, M4 3.40, M0+ 2.46; ESP32-S3 datasheet 2.56 per core.
 */
const SCALAR_VS_M7 = { m7: 1, m4: 3.4 / 5.01, m0plus: 2.46 / 5.01, lx7: 2.56 / 5.01 };

interface CoreExtras {
  /** Multiplies requant/add/softmax costs: 64-bit products without a 32x32->64 instruction. */
  wideMulPenalty?: number;
  /** Multiplies convert costs: float without an FPU. */
  softFloatPenalty?: number;
}

function scaled(relative: number, extras: CoreExtras = {}): Pick<DeviceProfile, 'macsPerCycle' | 'cyclesPerElement' | 'opOverheadCycles'> {
  const wide = extras.wideMulPenalty ?? 1;
  const float = extras.softFloatPenalty ?? 1;
  const cycles = (c: number) => Math.round(c / relative);
  return {
    macsPerCycle: {
      conv: M7_MACS.conv * relative,
      depthwise: M7_MACS.depthwise * relative,
      pointwise: M7_MACS.pointwise * relative,
      fc: M7_MACS.fc * relative,
    },
    cyclesPerElement: {
      requant: cycles(M7_ELEMENT.requant * wide),
      add: cycles(M7_ELEMENT.add * wide),
      pool: cycles(M7_ELEMENT.pool),
      softmax: cycles(M7_ELEMENT.softmax * wide),
      convert: cycles(M7_ELEMENT.convert * float),
    },
    opOverheadCycles: cycles(OP_OVERHEAD_CYCLES),
  };
}

// SRAM reserve on the Cortex-M boards (assumption): 8 KiB native stack, ~12 KiB for the WAMR
// AOT runtime and module instance (wasm3 needs ~10 KB RAM, REFERENCES.md section 4), 8 KiB of
// the module's static data and globals, 4 KiB of firmware (HAL, serial driver): 32 KiB.
const MCU_SRAM_RESERVE = 32 * KIB;
// Flash reserve (assumption): WAMR AOT runtime ~29 KB (REFERENCES.md section 4), the
// AOT-compiled executor ~64 KB, firmware/HAL ~35 KB: 128 KiB.
const MCU_FLASH_RESERVE = 128 * KIB;

export const DEVICES: Readonly<Record<string, DeviceProfile>> = {
  stm32f746: {
    name: 'stm32f746',
    core: 'Cortex-M7',
    description: 'STM32F746 (Cortex-M7, 216 MHz)',
    clockHz: 216e6,
    // 320 KB: DTCM 64 KB + SRAM1 240 KB + SRAM2 16 KB, contiguous from 0x20000000 (RM0385).
    sramBytes: 320 * KIB,
    reservedSramBytes: MCU_SRAM_RESERVE,
    flashBytes: 1 * MIB,
    reservedFlashBytes: MCU_FLASH_RESERVE,
    ...scaled(SCALAR_VS_M7.m7),
  },
  stm32h743: {
    name: 'stm32h743',
    core: 'Cortex-M7',
    description: 'STM32H743 (Cortex-M7, 480 MHz)',
    clockHz: 480e6,
    // 1 MB in separate regions (RM0433): AXI SRAM 512 KB, SRAM1-3 288 KB, SRAM4 64 KB,
    // DTCM 128 KB (+ ITCM 64 KB). The linear memory must be contiguous, so the arena lives in
    // the 512 KB AXI SRAM; stack, runtime and firmware go to the DTCM and D2 SRAM.
    sramBytes: 1 * MIB,
    reservedSramBytes: 1 * MIB - 512 * KIB,
    flashBytes: 2 * MIB,
    reservedFlashBytes: MCU_FLASH_RESERVE,
    ...scaled(SCALAR_VS_M7.m7),
  },
  nrf52840: {
    name: 'nrf52840',
    core: 'Cortex-M4F',
    description: 'nRF52840 (Cortex-M4F, 64 MHz)',
    clockHz: 64e6,
    sramBytes: 256 * KIB, // one contiguous RAM (nRF52840 product specification)
    reservedSramBytes: MCU_SRAM_RESERVE,
    flashBytes: 1 * MIB,
    reservedFlashBytes: MCU_FLASH_RESERVE,
    ...scaled(SCALAR_VS_M7.m4),
  },
  rp2040: {
    name: 'rp2040',
    core: 'Cortex-M0+',
    description: 'RP2040 (2x Cortex-M0+, 133 MHz; the executor uses one core)',
    clockHz: 133e6,
    sramBytes: 264 * KIB, // 4 striped 64 KB banks + 2 x 4 KB, contiguous (RP2040 datasheet)
    reservedSramBytes: MCU_SRAM_RESERVE,
    flashBytes: 2 * MIB, // external QSPI flash of the Raspberry Pi Pico
    reservedFlashBytes: MCU_FLASH_RESERVE,
    // ARMv6-M has no DSP extension and no 32x32->64 multiply (no SMULL): the i64 products of
    // requantization become a library call (assumed 3x), and there is no FPU (soft float,
    // assumed 8x for quantize/dequantize).
    ...scaled(SCALAR_VS_M7.m0plus, { wideMulPenalty: 3, softFloatPenalty: 8 }),
  },
  esp32s3: {
    name: 'esp32s3',
    core: 'Xtensa LX7',
    description: 'ESP32-S3 (2x Xtensa LX7, 240 MHz; the executor uses one core)',
    clockHz: 240e6,
    sramBytes: 512 * KIB, // internal SRAM (ESP32-S3 datasheet)
    // assumption: ESP-IDF, FreeRTOS, instruction cache and IRAM code take ~192 KiB, which
    // matches the ~300-350 KB of free heap a bare ESP-IDF application typically reports.
    reservedSramBytes: 192 * KIB,
    flashBytes: 8 * MIB, // typical module (ESP32-S3-WROOM-1-N8)
    // ESP-IDF with WAMR is larger than bare-metal firmware: assume 1 MiB.
    reservedFlashBytes: 1 * MIB,
    // ESP-NN's PIE SIMD is out of reach of WebAssembly, so the executor is scalar here too;
    // LX7 has a 32x32 multiply-high (MULSH) and a single-precision FPU: no extra penalties.
    ...scaled(SCALAR_VS_M7.lx7),
  },
};

/** Bytes of SRAM the arena may use on `device`. */
export function sramBudget(device: DeviceProfile): number {
  return device.sramBytes - device.reservedSramBytes;
}

/** Bytes of flash the container may use on `device`. */
export function flashBudget(device: DeviceProfile): number {
  return device.flashBytes - device.reservedFlashBytes;
}

/** The profile called `name` (case-insensitive); a SparrowError listing the known names otherwise. */
export function getDevice(name: string): DeviceProfile {
  const key = name.toLowerCase();
  if (!Object.hasOwn(DEVICES, key)) throw new SparrowError(`unknown device '${name}'; known devices: ${Object.keys(DEVICES).join(', ')}`);
  return DEVICES[key];
}
