import { describe, expect, it } from 'vitest';
import { DEVICES, flashBudget, getDevice, sramBudget } from '../src/compiler/devices.js';
import { SparrowError } from '../src/formats/errors.js';

const KIB = 1024;
const MIB = 1024 * KIB;

describe('device profiles', () => {
  // Datasheet figures as DESIGN.md section 4 and REFERENCES.md section 4 list them.
  const expected: [string, number, number, number][] = [
    ['stm32f746', 216e6, 320 * KIB, 1 * MIB],
    ['stm32h743', 480e6, 1 * MIB, 2 * MIB],
    ['nrf52840', 64e6, 256 * KIB, 1 * MIB],
    ['rp2040', 133e6, 264 * KIB, 2 * MIB],
    ['esp32s3', 240e6, 512 * KIB, 8 * MIB],
  ];
  for (const [name, clockHz, sramBytes, flashBytes] of expected) {
    it(`${name}: clock, SRAM and flash from the datasheet; budgets below them`, () => {
      const d = getDevice(name);
      expect(d).toMatchObject({ name, clockHz, sramBytes, flashBytes });
      expect(sramBudget(d)).toBeGreaterThan(0);
      expect(sramBudget(d)).toBeLessThan(sramBytes);
      expect(sramBudget(d) % KIB).toBe(0);
      expect(flashBudget(d)).toBeGreaterThan(0);
      expect(flashBudget(d)).toBeLessThan(flashBytes);
    });
  }

  it('lists exactly the documented boards', () => {
    expect(Object.keys(DEVICES).sort()).toEqual(expected.map((e) => e[0]).sort());
  });

  it('the H743 arena is limited to its largest contiguous SRAM (512 KB AXI SRAM)', () => {
    expect(sramBudget(getDevice('stm32h743'))).toBe(512 * KIB);
  });

  it('scalar throughput follows the cores: M7 > M4 > LX7 ~ M0+, all far below CMSIS-NN (0.22 MAC/cycle)', () => {
    const rate = (n: string) => getDevice(n).macsPerCycle.conv;
    expect(rate('stm32f746')).toBe(0.02); // TFLM reference kernels on a Cortex-M7 (REFERENCES.md section 4)
    expect(rate('stm32h743')).toBe(rate('stm32f746'));
    expect(rate('nrf52840')).toBeLessThan(rate('stm32f746'));
    expect(rate('rp2040')).toBeLessThan(rate('nrf52840'));
    for (const d of Object.values(DEVICES)) {
      for (const [kind, r] of Object.entries(d.macsPerCycle)) {
        expect(r, `${d.name} ${kind}`).toBeGreaterThan(0);
        expect(r, `${d.name} ${kind}`).toBeLessThan(0.22);
      }
      for (const [kind, c] of Object.entries(d.cyclesPerElement)) expect(c, `${d.name} ${kind}`).toBeGreaterThan(0);
    }
  });

  it('the M0+ pays for its missing 64-bit multiply and FPU beyond its CoreMark ratio', () => {
    const m7 = getDevice('stm32f746').cyclesPerElement;
    const m0 = getDevice('rp2040').cyclesPerElement;
    const coreRatio = 5.01 / 2.46; // CoreMark/MHz, M7 over M0+
    expect(m0.pool).toBe(Math.round(m7.pool * coreRatio));
    expect(m0.requant).toBeGreaterThan(m7.requant * coreRatio * 2);
    expect(m0.convert).toBeGreaterThan(m7.convert * coreRatio * 4);
  });

  it('finds names case-insensitively', () => {
    expect(getDevice('STM32F746').name).toBe('stm32f746');
  });

  for (const bad of ['esp32', 'constructor', '']) {
    it(`an unknown name ('${bad}') lists the known ones`, () => {
      expect(() => getDevice(bad)).toThrow(SparrowError);
      expect(() => getDevice(bad)).toThrow(`unknown device '${bad}'; known devices: stm32f746, stm32h743, nrf52840, rp2040, esp32s3`);
    });
  }
});
