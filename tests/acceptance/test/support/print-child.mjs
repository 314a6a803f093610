// Child process for hardening.kvm.test.ts: a simpleguest sandbox with the
// default print function (no `print` option) prints the text given as a JSON
// string, between two marker lines this script writes itself:
//   node print-child.mjs <rust|c> '"\u001b[2Jtext"'
import { GuestBinary, UninitializedSandbox } from '@hyperlight-ts/core';
import { guestPath } from '@hyperlight-ts/fixture-guests';

const [language, json] = process.argv.slice(2);
const text = JSON.parse(json);

const sandbox = UninitializedSandbox.create(GuestBinary.fromFile(guestPath(language, 'simpleguest'))).evolve();
process.stdout.write('<<<\n');
sandbox.call('Print', 'u32', text);
process.stdout.write('\n>>>\n');
sandbox.dispose();
