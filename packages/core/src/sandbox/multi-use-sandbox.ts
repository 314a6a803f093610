/**
 * An initialised sandbox whose guest state persists across calls.
 *
 *   Ready --call() fails with a poisoning error--> Poisoned --dispose()--> Disposed
 *   Ready --dispose()--> Disposed
 */
import { Abi } from '../abi/generated.js';
import {
  GuestFunctionError, GuestFunctionNotFoundError, GuestProtocolError, HostCallbackError, HyperlightError, MessageTooLargeError,
  PoisonedSandboxError, POISONS, SandboxStateError, WrongArgumentCountError, WrongArgumentTypeError, WrongReturnTypeError,
} from '../errors.js';
import type { EntryOperation } from '../arch/x86_64/entry-registers.js';
import {
  decodeFunctionCallResult, decodeGuestFunctionDetails, encodeFunctionCall, ErrorCode, type CallResult, type GuestFunctionSignature,
} from '../protocol/codec.js';
import type { LogRecord } from '../protocol/log-area.js';
import { checkValue, describeValue, type TypedValue, type ValueOf, type ValueTypeName } from '../protocol/values.js';
import type { ResolvedConfiguration } from './config.js';
import type { ExitHandlers, GuestVm } from './guest-vm.js';
import type { HostFunctionRegistry } from './host-functions.js';

/** A guest function as the guest declared it at initialisation. */
export interface GuestFunctionInfo {
  readonly name: string;
  readonly params: readonly Exclude<ValueTypeName, 'void'>[];
  readonly returns: ValueTypeName;
}

/** A sandbox ready for guest calls. Create one with `UninitializedSandbox.evolve()`. */
export class MultiUseSandbox implements Disposable {
  private functions = new Map<string, GuestFunctionInfo>();
  private poison: HyperlightError | undefined;
  private callbackFailure: HostCallbackError | undefined;
  private disposed = false;
  private readonly exitHandlers: ExitHandlers;

  /** @internal Use `UninitializedSandbox.evolve()`. */
  constructor(
    private readonly guest: GuestVm,
    private readonly hostFunctions: HostFunctionRegistry,
    config: ResolvedConfiguration,
  ) {
    const { print, logger, maxLogLevel } = config;
    this.exitHandlers = {
      callHost: (call, capacityBytes) => this.hostFunctions.reply(call, capacityBytes),
      print: (text) => this.guardCallback('print', () => print(text)),
      log: (records: LogRecord[]) => {
        if (!logger) return;
        // The guest is asked to drop less severe records; an untrusted one may not.
        for (const record of records) if (record.level >= maxLogLevel) this.guardCallback('logger', () => logger(record));
      },
    };
  }

  /**
   * @internal Runs the guest's initialisation and records the functions it publishes.
   * @throws like {@link call}, for the guest's initialisation code.
   */
  initialize(): void {
    this.setGuestFunctions(decodeGuestFunctionDetails(this.runGuest(Abi.OP_INIT)));
  }

  /** Runs the guest; a throwing `print` or `logger` fails the run once the guest is done. */
  private runGuest(op: EntryOperation): Uint8Array {
    this.callbackFailure = undefined;
    this.hostFunctions.lastFailure = undefined;
    const output = this.guest.run(op, this.exitHandlers);
    if (this.callbackFailure) throw this.callbackFailure;
    return output;
  }

  /** Calls a user callback; the first failure is kept for {@link runGuest} to throw. */
  private guardCallback(callback: 'print' | 'logger', fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.callbackFailure ??= new HostCallbackError(callback, error instanceof Error ? error.message : String(error), { cause: error });
    }
  }

  private setGuestFunctions(signatures: readonly GuestFunctionSignature[]): void {
    const functions = new Map<string, GuestFunctionInfo>();
    for (const s of signatures) {
      if (functions.has(s.name)) throw new GuestProtocolError(`the guest declared function "${s.name}" twice`);
      if (s.parameters.length > Abi.MAX_GUEST_FUNCTION_PARAMETERS || s.parameters.includes('void')) {
        throw new GuestProtocolError(`the guest declared function "${s.name}" with invalid parameters`);
      }
      functions.set(s.name, { name: s.name, params: s.parameters as GuestFunctionInfo['params'], returns: s.returnType });
    }
    this.functions = functions;
  }

  /** The functions the guest exports, by name. */
  get guestFunctions(): ReadonlyMap<string, GuestFunctionInfo> {
    return this.functions;
  }

  /** Whether an earlier failure left the guest in an untrustworthy state. */
  get poisoned(): boolean {
    return this.poison !== undefined;
  }

  /**
   * Calls guest function `name`. Arguments are checked against the guest's
   * declared signature before anything enters the VM, and `returns` must
   * match the declared return type.
   * @throws GuestFunctionNotFoundError, WrongArgumentCountError, WrongArgumentTypeError,
   *   WrongReturnTypeError, MessageTooLargeError before the call enters the VM.
   * @throws GuestFunctionError when the guest function reports an error.
   * @throws HostFunctionError / HostFunctionNotFoundError when a host function the guest called failed
   *   and the guest passed the failure on.
   * @throws HostCallbackError when the `print` function or the `logger` threw (after the guest finished).
   * @throws GuestAbortedError, GuestPanicError, GuestExceptionError, GuestStackOverflowError,
   *   GuestOutOfMemoryError, GuestProtocolError, GuestUnknownPortError, HypervisorError — these poison the sandbox.
   * @throws PoisonedSandboxError when an earlier call poisoned the sandbox.
   * @throws SandboxStateError after `dispose()`.
   * @example
   * const greeting = sandbox.call('SayHello', 'string', 'World');
   */
  call<R extends ValueTypeName>(name: string, returns: R, ...args: unknown[]): ValueOf<R> {
    if (this.disposed) throw new SandboxStateError(`cannot call "${name}": the sandbox is disposed`);
    if (this.poison) throw new PoisonedSandboxError(this.poison);
    const info = this.functions.get(name);
    if (!info) throw new GuestFunctionNotFoundError(name);
    if (info.returns !== returns) throw new WrongReturnTypeError(name, String(returns), info.returns);
    if (args.length !== info.params.length) throw new WrongArgumentCountError(name, info.params.length, args.length);
    const typed = info.params.map((type, index): TypedValue => {
      const problem = checkValue(type, args[index]);
      if (problem !== undefined) throw new WrongArgumentTypeError(name, index, type, `${describeValue(args[index])} (${problem})`);
      return { type, value: args[index] } as TypedValue;
    });
    this.guest.writeInput(encodeFunctionCall({ functionName: name, args: typed, returnType: returns }), `call of "${name}"`);
    let result: CallResult;
    try {
      result = decodeFunctionCallResult(this.runGuest(Abi.OP_CALL));
    } catch (error) {
      if (error instanceof HyperlightError && POISONS[error.code as keyof typeof POISONS]) this.poison = error;
      throw error;
    }
    if (!result.ok) throw this.callError(name, result.code, result.message);
    if (result.value.type !== returns) {
      this.poison = new GuestProtocolError(`"${name}" returned ${result.value.type}, not the declared ${returns}`);
      throw this.poison;
    }
    return result.value.value as ValueOf<R>;
  }

  /** Releases the VM and its memory. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.guest.dispose();
  }

  /** Same as {@link dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Maps a guest-reported call error to the matching error class. */
  private callError(name: string, code: number, message: string): HyperlightError {
    // The guest passed on the failure of its last host call: report the host's own error.
    const hostFailure = this.hostFunctions.lastFailure;
    if (hostFailure && hostFailure.code === code) return hostFailure.error;
    switch (code) {
      case ErrorCode.FunctionNotFound:
        return new GuestFunctionNotFoundError(name);
      case ErrorCode.MessageTooLarge:
        return new MessageTooLargeError(
          `a message from guest function "${name}" (its result or a host call's arguments)`, undefined, this.guest.layout.outputSize, 'outputSize',
        );
    }
    return new GuestFunctionError(name, message);
  }
}
