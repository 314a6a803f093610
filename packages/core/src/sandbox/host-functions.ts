/**
 * Host functions: JavaScript functions the guest may call, each registered
 * with a declared signature that is enforced in both directions.
 */
import { Abi } from '../abi/generated.js';
import { HostFunctionError, HostFunctionNotFoundError, InvalidHostFunctionError, MessageTooLargeError, type HyperlightError } from '../errors.js';
import { encodeFunctionCallResult, ErrorCode, type CallResult, type FunctionCallMessage } from '../protocol/codec.js';
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

/** A host function implementation for a signature. */
export type HostFunction<P extends readonly ParameterTypeName[], R extends ValueTypeName> = (...args: ArgumentsOf<P>) => ValueOf<R>;

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
  lastFailure: { readonly error: HyperlightError; readonly code: ErrorCode } | undefined;

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
   * Runs a call the guest made. Never throws: every failure becomes a
   * `CallError` for the guest, and is remembered in {@link lastFailure}.
   */
  invoke(call: FunctionCallMessage): CallResult {
    const { functionName: name, args, returnType } = call;
    const entry = this.functions.get(name);
    if (!entry) return this.fail(ErrorCode.HostFunctionNotFound, new HostFunctionNotFoundError(name));
    const { params, returns } = entry.signature;
    const fail = (code: ErrorCode, detail: string, cause?: unknown): CallResult =>
      this.fail(code, new HostFunctionError(name, detail, cause === undefined ? undefined : { cause }));
    if (args.length !== params.length) {
      return fail(ErrorCode.WrongArgumentCount, `takes ${params.length} argument${params.length === 1 ? '' : 's'} but the guest passed ${args.length}`);
    }
    for (const [index, arg] of args.entries()) {
      if (arg.type !== params[index]) return fail(ErrorCode.WrongArgumentType, `argument ${index} must be ${params[index]}, the guest passed ${arg.type}`);
    }
    if (returnType !== returns) return fail(ErrorCode.WrongReturnType, `returns ${returns}, the guest expected ${returnType}`);
    let value: unknown;
    try {
      value = entry.fn(...args.map((a) => a.value));
    } catch (error) {
      return fail(ErrorCode.HostFunctionFailed, error instanceof Error ? error.message : String(error), error);
    }
    if (value instanceof Promise) {
      value.catch(() => undefined);
      return fail(ErrorCode.HostFunctionFailed, 'returned a Promise; host functions must be synchronous');
    }
    const problem = checkValue(returns, value);
    if (problem !== undefined) return fail(ErrorCode.HostFunctionFailed, `returned ${describeValue(value)} but is declared to return ${returns} (${problem})`);
    this.lastFailure = undefined;
    return { ok: true, value: { type: returns, value } as TypedValue };
  }

  /**
   * Runs a call the guest made and encodes the reply. A result that would not
   * fit in `capacityBytes` (the input buffer) becomes a `MessageTooLarge`
   * error reply, so the guest finishes its call and frees what it holds.
   * Never throws.
   */
  reply(call: FunctionCallMessage, capacityBytes: number): Uint8Array {
    const payload = encodeFunctionCallResult(this.invoke(call));
    const frameSize = Abi.FRAME_HEADER_SIZE + payload.byteLength;
    if (frameSize <= capacityBytes) return payload;
    const error = new MessageTooLargeError(`result of host function "${call.functionName}"`, frameSize, capacityBytes, 'inputSize');
    return encodeFunctionCallResult(this.fail(ErrorCode.MessageTooLarge, error));
  }

  private fail(code: ErrorCode, error: HyperlightError): CallResult & { ok: false } {
    this.lastFailure = { error, code };
    return { ok: false, code, message: error.message };
  }
}
