import { describe, expect, it } from 'vitest';

import { demangleRust } from '../../src/symbols/demangle-rust.js';

describe('demangleRust', () => {
  it('legacy names: drops the hash, unescapes, joins with ::', () => {
    expect(demangleRust('_ZN11simpleguest14call_host_many17hb728678d75511c27E')).toBe('simpleguest::call_host_many');
    expect(
      demangleRust('_ZN117_$LT$hyperlight_guest..error..GuestError$u20$as$u20$core..convert..From$LT$hyperlight_guest..error..HostError$GT$$GT$4from17hd467499d1ef918efE'),
    ).toBe('<hyperlight_guest::error::GuestError as core::convert::From<hyperlight_guest::error::HostError>>::from');
    expect(demangleRust('_ZN4core3ptr51drop_in_place$LT$alloc..vec..Vec$LT$$RF$str$GT$$GT$17h0123456789abcdefE.llvm.42')).toBe(
      'core::ptr::drop_in_place<alloc::vec::Vec<&str>>',
    );
    expect(demangleRust('_ZN5crate28_$u7b$$u7b$closure$u7d$$u7d$17h0123456789abcdefE')).toBe('crate::{{closure}}');
  });

  it('v0 names: paths, impls, generics, backreferences, closures', () => {
    expect(demangleRust('_RNvCsfLfy6EI15iL_7___rustc12___rust_alloc')).toBe('__rustc::__rust_alloc');
    expect(demangleRust('_RNvMs4_NtCslNYArtu3iFV_5alloc7raw_vecNtB5_11RawVecInner11finish_growB7_')).toBe('<alloc::raw_vec::RawVecInner>::finish_grow');
    expect(demangleRust('_RINvNtCsgEmfK2I1SDS_4core9panicking13assert_failedyyEB4_')).toBe('core::panicking::assert_failed::<u64, u64>');
    expect(demangleRust('_RNvXs1_NtNtCsgEmfK2I1SDS_4core5panic10panic_infoNtB5_12PanicMessageNtNtB9_3fmt7Display3fmt')).toBe(
      '<core::panic::panic_info::PanicMessage as core::fmt::Display>::fmt',
    );
    expect(demangleRust('_RNCNvCs1234_5crate4main0B3_')).toBe('crate::main::{closure#0}');
    expect(demangleRust('_RINvCs1234_5crate3fooRShTmbEKj10_EB2_')).toBe("crate::foo::<&[u8], (u32, bool), 16>");
  });

  it('leaves other and unparsable names alone, without looping on bad backreferences', () => {
    for (const name of ['hl_malloc', 'main', '_ZN3foo', '_ZN99abcE', '_RNvB_3foo', '_RB0_', '_RNvC', '_R', `_R${'I'.repeat(10_000)}`]) {
      expect(demangleRust(name)).toBe(name);
    }
    // Nested backreferences that would expand exponentially are cut off.
    expect(demangleRust('_RINvC1a1bTB7_B7_EE')).toBe('_RINvC1a1bTB7_B7_EE');
  });
});
