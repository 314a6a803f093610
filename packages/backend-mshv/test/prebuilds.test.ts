// The two prebuilt addons' requirements of the system that loads them (see the suite).
import { fileURLToPath } from 'node:url';
import { describePrebuilds } from '@hyperlight-ts/test-support';

describePrebuilds(fileURLToPath(new URL('..', import.meta.url)), 'hyperlight_mshv.node');
