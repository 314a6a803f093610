/**
 * Frames: how one message sits in the input or output buffer (docs/abi.md,
 * "Buffers and frames"): a u32 little-endian payload length N at offset 0,
 * then N payload bytes. For flatbuffer messages the payload comes from
 * codec.ts, and the frame is then a standard size-prefixed flatbuffer.
 */
import { Abi } from '../abi/generated.js';
import { GuestProtocolError, MessageTooLargeError } from '../errors.js';

/** Keeps a leading U+FEFF: it is part of the text, not a byte-order mark. */
const utf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Decodes UTF-8 text from the guest exactly: invalid sequences become U+FFFD,
 * and a leading U+FEFF is kept.
 * @throws never
 */
export function decodeText(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/**
 * {@link decodeText} of the bytes from `start` to `end` of `text`, without
 * making a view of them first: the same string exactly (Node decodes both
 * with V8's UTF-8 decoder, which replaces invalid sequences with U+FFFD, and
 * neither drops a leading U+FEFF here), with less overhead per call.
 * @throws never, for a range inside `text`
 */
export function decodeTextRange(text: Buffer, start: number, end: number): string {
  return text.toString('utf8', start, end);
}

function view(area: Uint8Array): DataView {
  return new DataView(area.buffer, area.byteOffset, area.byteLength);
}

/**
 * Writes `payload` as a frame at the start of `area`.
 * @param what - the message, for the error (e.g. `call of "Add"`)
 * @param option - the configuration option that sizes `area` (e.g. `'inputSize'`)
 * @throws MessageTooLargeError when 4 + payload length exceeds `area`.
 */
export function writeFrame(area: Uint8Array, payload: Uint8Array, what: string, option: string): void {
  const frameSize = Abi.FRAME_HEADER_SIZE + payload.byteLength;
  if (frameSize > area.byteLength) throw new MessageTooLargeError(what, frameSize, area.byteLength, option);
  view(area).setUint32(0, payload.byteLength, true);
  area.set(payload, Abi.FRAME_HEADER_SIZE);
}

/**
 * Reads the frame at the start of `area`.
 * @param what - the message expected, for the error
 * @returns the payload, a view into `area` (copy what must outlive the next guest run)
 * @throws GuestProtocolError when the header or the payload does not fit in `area`.
 */
export function readFrame(area: Uint8Array, what = 'frame'): Uint8Array {
  if (area.byteLength < Abi.FRAME_HEADER_SIZE) {
    throw new GuestProtocolError(`${what}: the ${area.byteLength}-byte buffer cannot hold a ${Abi.FRAME_HEADER_SIZE}-byte frame header`);
  }
  const length = view(area).getUint32(0, true);
  if (length > area.byteLength - Abi.FRAME_HEADER_SIZE) {
    throw new GuestProtocolError(
      `${what}: frame claims ${length} payload bytes but the ${area.byteLength}-byte buffer holds at most ${area.byteLength - Abi.FRAME_HEADER_SIZE}`,
    );
  }
  return area.subarray(Abi.FRAME_HEADER_SIZE, Abi.FRAME_HEADER_SIZE + length);
}

/**
 * Reads a text frame: UTF-8 text, with invalid sequences replaced by U+FFFD.
 * @throws GuestProtocolError when the frame does not fit in `area`.
 */
export function readTextFrame(area: Uint8Array, what = 'text frame'): string {
  return decodeText(readFrame(area, what));
}
