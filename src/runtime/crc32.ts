// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib), four bits per step with a
// 64-byte table: slower than the usual 1 KB byte table, but the file is checked once per load.

/** CRC of each 4-bit value, for the reflected polynomial. */
const NIBBLE_TABLE = memory.data<u32>([
  0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
  0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
]);

// @ts-ignore: decorator
@inline
function step(crc: u32, byte: u32): u32 {
  crc ^= byte;
  crc = (crc >>> 4) ^ load<u32>(NIBBLE_TABLE + ((crc & 15) << 2));
  return (crc >>> 4) ^ load<u32>(NIBBLE_TABLE + ((crc & 15) << 2));
}

/** Continues a running CRC (start with 0xFFFFFFFF, finish with `~`) over `len` bytes at `ptr`. */
export function crc32Update(crc: u32, ptr: usize, len: u32): u32 {
  for (let i: u32 = 0; i < len; i++) crc = step(crc, <u32>load<u8>(ptr + i));
  return crc;
}

/** Continues a running CRC over `count` zero bytes. */
export function crc32Zeros(crc: u32, count: u32): u32 {
  for (let i: u32 = 0; i < count; i++) crc = step(crc, 0);
  return crc;
}

/** CRC-32 of `len` bytes at `ptr`. */
export function crc32(ptr: usize, len: u32): u32 {
  return ~crc32Update(0xffffffff, ptr, len);
}
