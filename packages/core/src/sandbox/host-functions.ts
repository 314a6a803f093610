/**
 * Host functions: JavaScript functions the guest may call, each registered
 * with a declared signature that is enforced in both directions.
 */
import { Abi } from '../abi/generated.js';
import type { ResultEncoder } from '../protocol/result-encoder.js';
import { HostFunctionError, HostFunctionNotFoundError, InvalidHostFunctionError, MessageTooLargeError, type HyperlightError } from '../errors.js';
import { describeThrown } from './safe-text.js';
import { ErrorCode, type FunctionCallMessage } from '../protocol/codec.js';
import {
  checkValue, describeValue, PARAMETER_TYPES, VALUE_TYPES, type ParameterTypeName, type TypedValue, type ValueOf, type ValueTypeName,
} from '../protocol/values.js';

/** A declared function signature. */
export interface FunctionSignature<
  P extends readonly ParameterTypeName[] = readonly ParameterTypeName[],
  R extends ValueTypeName = ValueTypeName,
> {
  readonly params: P;
  readonly returns: R;
}

/** JavaScript argument types for a parameter list. */
export type ArgumentsOf<P extends readonly ParameterTypeName[]> = { -readonly [K in keyof P]: ValueOf<P[K]> };

/**
 * A host function implementation for a signature. It may be `async` (return a
 * Promise) when the guest is called with `callAsync()`; a rejection reaches the
 * guest as a host-function failure.
 */
export type HostFunction<P extends readonly ParameterTypeName[], R extends ValueTypeName> = (
  ...args: ArgumentsOf<P>
) => R extends 'void' ? void | Promise<void> : ValueOf<R> | Promise<ValueOf<R>>;

/** A host function with its signature, for `MultiUseSandbox.fromSnapshot({ hostFunctions })`; make one with {@link hostFunction}. */
export interface HostFunctionDefinition<
  P extends readonly ParameterTypeName[] = readonly ParameterTypeName[],
  R extends ValueTypeName = ValueTypeName,
> {
  readonly signature: FunctionSignature<P, R>;
  readonly fn: HostFunction<P, R>;
}

/** Host functions by name. Any definition fits, whatever its parameter types. */
export type HostFunctionDefinitions = Readonly<Record<string, { readonly signature: FunctionSignature; readonly fn: (...args: never[]) => unknown }>>;

/**
 * Pairs a signature with its implementation, typed like `register()`.
 * @throws never (the definition is checked when a sandbox registers it)
 * @example
 * const hostFunctions = { Add: hostFunction({ params: ['i32', 'i32'], returns: 'i32' }, (a, b) => a + b) };
 * using sandbox = MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions });
 */
export function hostFunction<const P extends readonly ParameterTypeName[], const R extends ValueTypeName>(
  signature: FunctionSignature<P, R>,
  fn: HostFunction<P, R>,
): HostFunctionDefinition<P, R> {
  return { signature, fn };
}

/** A failed host call: the error the host keeps and the code the guest is sent. */
interface Failure {
  readonly code: ErrorCode;
  readonly error: HyperlightError;
}

/** How a host call ended. */
type Outcome = { readonly value: TypedValue } | Failure;

/** Whether `value` is a Promise or other thenable; false for anything that throws when asked (a hostile Proxy). */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  try {
    return typeof (value as { then?: unknown } | null)?.then === 'function';
  } catch {
    return false;
  }
}

/**
 * Writes the error reply of `failure`, its message cut as much as needed to
 * fit.
 * @throws MessageTooLargeError when not even an empty message fits (inputs are at least a page, so it does).
 */
function writeErrorReply({ code, error }: Failure, encoder: ResultEncoder): void {
  let message = error.message;
  for (;;) {
    const written = encoder.encode({ ok: false, code, message });
    if (written >= 0) return;
    if (message.length === 0) throw new MessageTooLargeError('an error reply to a host call', -written, encoder.capacityBytes, 'inputSize');
    // Keep the longest prefix of whole characters that is `excess` UTF-8 bytes shorter.
    const excess = -written - encoder.capacityBytes;
    const budget = Math.max(0, Buffer.byteLength(message) - excess);
    const { read } = new TextEncoder().encodeInto(message, new Uint8Array(budget));
    message = message.slice(0, Math.min(read, message.length - 1));
  }
}

/**
 * Writes the reply to a host call with the input buffer's encoder; made by
 * {@link HostFunctionRegistry.reply}. Never throws.
 */
export type ReplyWriter = (encoder: ResultEncoder) => void;

interface Registered {
  readonly signature: FunctionSignature;
  readonly fn: (...args: unknown[]) => unknown;
}

/** Longest function name in UTF-8 bytes. */
export const MAX_FUNCTION_NAME_SIZE = 255;

/** The host functions of one sandbox. */
export class HostFunctionRegistry {
  private readonly functions = new Map<string, Registered>();
  /**
   * The failure of the most recent host call and the code the guest was sent,
   * kept to explain a guest error that passes that code on.
   */
  lastFailure: Failure | undefined;

  /**
   * Adds a function.
   * @throws InvalidHostFunctionError for a bad name, signature, implementation or a duplicate.
   */
  register(name: string, signature: FunctionSignature, fn: unknown): void {
    if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > MAX_FUNCTION_NAME_SIZE) {
      throw new InvalidHostFunctionError(String(name), `the name must be 1 to ${MAX_FUNCTION_NAME_SIZE} bytes of UTF-8`);
    }
    if (this.functions.has(name)) throw new InvalidHostFunctionError(name, 'a function with this name is already registered');
    if (typeof fn !== 'function') throw new InvalidHostFunctionError(name, `the implementation must be a function, got ${typeof fn}`);
    const params: unknown = signature?.params;
    if (!Array.isArray(params)) throw new InvalidHostFunctionError(name, 'signature.params must be an array of type names');
    if (params.length > Abi.MAX_GUEST_FUNCTION_PARAMETERS) {
      throw new InvalidHostFunctionError(name, `at most ${Abi.MAX_GUEST_FUNCTION_PARAMETERS} parameters are supported, got ${params.length}`);
    }
    params.forEach((type: unknown, index) => {
      if (!PARAMETER_TYPES.includes(type as ParameterTypeName)) {
        throw new InvalidHostFunctionError(name, `parameter ${index} has unknown type ${JSON.stringify(type)} (allowed: ${PARAMETER_TYPES.join(', ')})`);
      }
    });
    if (!VALUE_TYPES.includes(signature.returns)) {
      throw new InvalidHostFunctionError(name, `unknown return type ${JSON.stringify(signature.returns)} (allowed: ${VALUE_TYPES.join(', ')})`);
    }
    this.functions.set(name, { signature: { params: [...params] as ParameterTypeName[], returns: signature.returns }, fn: fn as Registered['fn'] });
  }

  /** The registered names and signatures. */
  signatures(): ReadonlyMap<string, FunctionSignature> {
    return new Map([...this.functions].map(([name, r]) => [name, r.signature]));
  }

  /**
   * Runs a call the guest made. Its reply is written, and its failure (if
   * any) becomes {@link lastFailure}, when the returned writer is called: the
   * run loop calls it with the input buffer's encoder. A result that does not
   * fit the buffer becomes a `MessageTooLarge` error reply, so the guest
   * finishes its call and frees what it holds. A host function that returns a
   * Promise fails here: only `callAsync()` can wait for one. Never throws.
   */
  reply(call: FunctionCallMessage): ReplyWriter {
    const started = this.start(call);
    if (!('value' in started)) return this.writer(call, started);
    if (isThenable(started.value)) {
      Promise.resolve(started.value).catch(() => undefined);
      const error = new HostFunctionError(call.functionName, 'returned a Promise; async host functions need callAsync()');
      return this.writer(call, { code: ErrorCode.HostFunctionFailed, error });
    }
    return this.writer(call, this.finish(call, started.value));
  }

  /**
   * {@link reply} that waits for a host function's Promise; a rejection is a
   * host-function failure. Never rejects. A reply whose writer is never
   * called (its call was cancelled while it waited) leaves the input buffer
   * and {@link lastFailure} alone.
   */
  async replyAsync(call: FunctionCallMessage): Promise<ReplyWriter> {
    const started = this.start(call);
    if (!('value' in started)) return this.writer(call, started);
    let outcome: Outcome;
    try {
      outcome = this.finish(call, await started.value);
    } catch (error) {
      outcome = this.failure(call.functionName, ErrorCode.HostFunctionFailed, describeThrown(error), error);
    }
    return this.writer(call, outcome);
  }

  /** Checks a guest's call and runs the function; `value` is what it returned, else the failure. */
  private start(call: FunctionCallMessage): { readonly value: unknown } | Failure {
    const { functionName: name, args, returnType } = call;
    const entry = this.functions.get(name);
    if (!entry) return { code: ErrorCode.HostFunctionNotFound, error: new HostFunctionNotFoundError(name) };
    const { params, returns } = entry.signature;
    if (args.length !== params.length) {
      return this.failure(name, ErrorCode.WrongArgumentCount, `takes ${params.length} argument${params.length === 1 ? '' : 's'} but the guest passed ${args.length}`);
    }
    for (const [index, arg] of args.entries()) {
      if (arg.type !== params[index]) return this.failure(name, ErrorCode.WrongArgumentType, `argument ${index} must be ${params[index]}, the guest passed ${arg.type}`);
    }
    if (returnType !== returns) return this.failure(name, ErrorCode.WrongReturnType, `returns ${returns}, the guest expected ${returnType}`);
    try {
      return { value: entry.fn(...args.map((a) => a.value)) };
    } catch (error) {
      return this.failure(name, ErrorCode.HostFunctionFailed, describeThrown(error), error);
    }
  }

  /** Checks what a host function returned against its declared type. */
  private finish(call: FunctionCallMessage, value: unknown): Outcome {
    const returns = call.returnType;
    let problem: string | undefined;
    try {
      problem = checkValue(returns, value);
    } catch (error) {
      problem = `its value could not be inspected: ${describeThrown(error)}`;
    }
    if (problem !== undefined) {
      return this.failure(call.functionName, ErrorCode.HostFunctionFailed, `returned ${describeValue(value)} but is declared to return ${returns} (${problem})`);
    }
    return { value: { type: returns, value } as TypedValue };
  }

  private failure(name: string, code: ErrorCode, detail: string, cause?: unknown): Failure {
    return { code, error: new HostFunctionError(name, detail, cause === undefined ? undefined : { cause }) };
  }

  /** The writer of the reply for `outcome`. */
  private writer(call: FunctionCallMessage, outcome: Outcome): ReplyWriter {
    return (encoder) => this.write(call, outcome, encoder);
  }

  /**
   * Writes the reply and records the failure. The reply always fits: a result
   * that does not becomes a `MessageTooLarge` error, and an error's message
   * is cut to fit.
   */
  private write(call: FunctionCallMessage, outcome: Outcome, encoder: ResultEncoder): void {
    const failure = 'value' in outcome ? this.writeValue(call, outcome.value, encoder) : outcome;
    this.lastFailure = failure;
    if (failure) writeErrorReply(failure, encoder);
  }

  /**
   * Writes a host function's value as the reply.
   * @returns undefined when it was written, else the failure to reply with instead.
   */
  private writeValue(call: FunctionCallMessage, value: TypedValue, encoder: ResultEncoder): Failure | undefined {
    let written: number;
    try {
      written = encoder.encode({ ok: true, value });
    } catch (error) {
      // Only a value that passed checkValue without being what it seemed (a Proxy of a Uint8Array) gets here.
      return this.failure(call.functionName, ErrorCode.HostFunctionFailed, `returned a value that could not be encoded: ${describeThrown(error)}`, error);
    }
    if (written >= 0) return undefined;
    const error = new MessageTooLargeError(`result of host function "${call.functionName}"`, -written, encoder.capacityBytes, 'inputSize');
    return { code: ErrorCode.MessageTooLarge, error };
  }
}
