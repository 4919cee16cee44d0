// STUB: signature fixed, body to be written.
export function add_s8(a: usize, aZp: i32, b: usize, bZp: i32, output: usize, outZp: i32, count: i32, leftShift: i32, aMultiplier: i32, aShift: i32, bMultiplier: i32, bShift: i32, outMultiplier: i32, outShift: i32, actMin: i32, actMax: i32): void {}
