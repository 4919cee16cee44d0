import { describe, expect, it } from 'vitest';
import * as schema from '../src/formats/schema.js';

// The enums are the file format: their *_COUNT constants must stay one past the largest value.
describe('schema', () => {
  const cases: [string, Record<string, string | number>, number][] = [
    ['Section', schema.Section as never, schema.SECTION_COUNT],
    ['DType', schema.DType as never, schema.DTYPE_COUNT],
    ['Category', schema.Category as never, schema.CATEGORY_COUNT],
    ['Op', schema.Op as never, schema.OP_COUNT],
    ['Status', schema.Status as never, schema.STATUS_COUNT],
  ];
  for (const [name, e, count] of cases) {
    it(`${name} count is one past its largest value`, () => {
      const values = Object.values(e).filter((v): v is number => typeof v === 'number');
      expect(Math.max(...values) + 1).toBe(count);
      expect(new Set(values).size).toBe(values.length);
    });
  }
});
