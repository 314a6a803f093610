/**
 * Byte-exact `struct hv_message`s, laid out with the offsets documented for
 * the x64 intercept messages (hvhdk.h via rust-vmm's bindgen asserts), written
 * here as literals on purpose: they check src/mshv-abi.ts rather than reuse it.
 */
export function ioPortMessage(o: { port: number; size: number; write: boolean; rax: bigint; rip: bigint; length: number; accessInfo?: number }): Uint8Array {
  const bytes = new Uint8Array(256);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, 0x8001_0000, true);
  view.setUint8(4, 128 - 0); // payload size, informative
  view.setUint8(20, 0xa0 | o.length); // high nibble: CR8, must be ignored
  view.setUint8(21, o.write ? 1 : 0);
  view.setBigUint64(40, o.rip, true);
  view.setUint16(56, o.port, true);
  view.setUint8(58, o.accessInfo ?? o.size);
  view.setBigUint64(64, o.rax, true);
  return bytes;
}

export function memoryMessage(o: { unmapped: boolean; gpa: bigint; access: number }): Uint8Array {
  const bytes = new Uint8Array(256);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, o.unmapped ? 0x8000_0000 : 0x8000_0001, true);
  view.setUint8(21, o.access);
  view.setBigUint64(64, 0xdead_0000n, true); // gva, not the gpa
  view.setBigUint64(72, o.gpa, true);
  return bytes;
}

export function plainMessage(type: number, fill?: (view: DataView) => void): Uint8Array {
  const bytes = new Uint8Array(256);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, type, true);
  fill?.(view);
  return bytes;
}
