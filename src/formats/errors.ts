// Typed errors thrown by the host. Each names what went wrong and where, with
// enough numbers for a person to act on it. Device code never throws: it returns a
// `Status` (schema.ts), which the host turns into a `DeviceError`.

export class SparrowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A container or model file that is malformed, truncated or inconsistent. */
export class FormatError extends SparrowError {
  /** Byte offset in the file, when the problem has one. */
  readonly offset?: number;
  constructor(message: string, offset?: number) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`);
    this.offset = offset;
  }
}

/** A tensor whose shape, dtype or size does not match what an op or caller needs. */
export class ShapeError extends SparrowError {}

/** A numeric input that is not finite (NaN, ±Infinity) where a finite value is required. */
export class ValueError extends SparrowError {}

/** A plan that does not fit the device: needed vs available, and who is responsible. */
export class BudgetError extends SparrowError {
  readonly needed: number;
  readonly available: number;
  /** The largest contributors at the peak, largest first. */
  readonly contributors: { name: string; bytes: number; op?: string }[];
  constructor(what: string, needed: number, available: number, contributors: { name: string; bytes: number; op?: string }[] = []) {
    const top = contributors.slice(0, 5).map((c) => `${c.name} ${c.bytes} B${c.op ? ` (${c.op})` : ''}`).join(', ');
    super(`${what} needs ${needed} B but only ${available} B are available (${needed - available} B over)` + (top ? `; largest: ${top}` : ''));
    this.needed = needed;
    this.available = available;
    this.contributors = contributors;
  }
}

/** A device call that returned a non-OK status. */
export class DeviceError extends SparrowError {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/** A training recipe that names an unknown layer or a value outside what is allowed; the message lists the allowed values. */
export class RecipeError extends SparrowError {}
