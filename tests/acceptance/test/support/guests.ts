/**
 * Shared set-up for tests that run real guests: which guests exist, whether
 * a hypervisor is usable, and a sandbox factory with the host functions the
 * test guests expect.
 */
import {
  GuestBinary, hostFunction, UninitializedSandbox, type FunctionSignature, type HostFunction, type HostFunctionDefinitions,
  type ParameterTypeName, type SandboxConfiguration, type ValueTypeName,
} from '@hyperlight-ts/core';
import { guestPath } from '@hyperlight-ts/fixture-guests';
import { describeHypervisor } from '@hyperlight-ts/test-support';

/** Guest languages every behaviour is checked against. */
export const GUEST_LANGUAGES = ['rust', 'c'] as const;
export type GuestLanguage = (typeof GUEST_LANGUAGES)[number];

export { describeHypervisor };

/** Runs `body` once per guest language, inside a hypervisor-only describe block. */
export function forEachGuest(name: string, body: (language: GuestLanguage) => void): void {
  for (const language of GUEST_LANGUAGES) describeHypervisor(`${name} [${language} guest]`, () => body(language));
}

/** The simpleguest binary for a language. */
export function simpleGuest(language: GuestLanguage): GuestBinary {
  return GuestBinary.fromFile(guestPath(language, 'simpleguest'));
}

/**
 * Host functions the simpleguests call, as the fixture README lists them, in
 * the form `MultiUseSandbox.fromSnapshot({ hostFunctions })` takes. Sandboxes
 * made with {@link registerTestHostFunctions} register exactly these.
 */
export const TEST_HOST_FUNCTIONS = {
  HostEchoString: hostFunction({ params: ['string'], returns: 'string' }, (s) => s),
  HostAdd: hostFunction({ params: ['i32', 'i32'], returns: 'i32' }, (a, b) => a + b),
  HostThrows: hostFunction({ params: [], returns: 'string' }, () => {
    throw new Error('host function refused');
  }),
  HostEchoI32: hostFunction({ params: ['i32'], returns: 'i32' }, (v) => v),
  HostEchoU32: hostFunction({ params: ['u32'], returns: 'u32' }, (v) => v),
  HostEchoI64: hostFunction({ params: ['i64'], returns: 'i64' }, (v) => v),
  HostEchoU64: hostFunction({ params: ['u64'], returns: 'u64' }, (v) => v),
  HostEchoF32: hostFunction({ params: ['f32'], returns: 'f32' }, (v) => v),
  HostEchoF64: hostFunction({ params: ['f64'], returns: 'f64' }, (v) => v),
  HostEchoBool: hostFunction({ params: ['bool'], returns: 'bool' }, (v) => v),
  HostEchoBytes: hostFunction({ params: ['bytes'], returns: 'bytes' }, (v) => v),
} as const satisfies HostFunctionDefinitions;

/**
 * Registers {@link TEST_HOST_FUNCTIONS} on `u`, with any of them replaced by
 * (or extra ones added from) `overrides`, and returns it.
 */
export function registerTestHostFunctions(u: UninitializedSandbox, overrides: HostFunctionDefinitions = {}): UninitializedSandbox {
  for (const [name, { signature, fn }] of Object.entries({ ...TEST_HOST_FUNCTIONS, ...overrides })) {
    // Each entry's implementation matches its own signature; the loop just loses that pairing.
    u.register(name, signature as FunctionSignature, fn as unknown as HostFunction<readonly ParameterTypeName[], ValueTypeName>);
  }
  return u;
}

/** A simpleguest sandbox before evolve(), with the test host functions (some replaced by `overrides`). */
export function simpleUninitialized(
  language: GuestLanguage,
  config: SandboxConfiguration = {},
  overrides: HostFunctionDefinitions = {},
): UninitializedSandbox {
  return registerTestHostFunctions(UninitializedSandbox.create(simpleGuest(language), config), overrides);
}

/** An evolved simpleguest sandbox with the test host functions registered (some replaced by `overrides`). */
export function simpleSandbox(language: GuestLanguage, config: SandboxConfiguration = {}, overrides: HostFunctionDefinitions = {}) {
  return simpleUninitialized(language, config, overrides).evolve();
}
