// A Node.js without a Node-API function the addon uses, made real: a shared
// object that calls a Node-API function no Node.js has, bound at load (-z now)
// like the prebuilds, refused by this machine's dynamic loader.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { currentHost, loadPrebuiltAddon, NATIVE_LOAD_ERROR_CODE, PREBUILD_REQUIREMENTS } from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'napi-too-old-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadPrebuiltAddon on a Node.js that lacks a Node-API function', () => {
  it('names the missing function and the Node-API version the addon needs', () => {
    const source = join(dir, 'future.c');
    const addonPath = join(dir, 'future.node');
    writeFileSync(source, 'extern int napi_from_the_future(void);\nint call_it(void) { return napi_from_the_future(); }\n');
    execFileSync('cc', ['-shared', '-fPIC', '-Wl,-z,now', '-o', addonPath, source]);
    let thrown: unknown;
    try {
      loadPrebuiltAddon({ packageName: '@hyperlight-ts/backend-kvm', packageRoot: dir, fileName: 'future.node' }, currentHost(), addonPath);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: NATIVE_LOAD_ERROR_CODE });
    const message = (thrown as Error).message;
    expect(message).toContain('lacks the Node-API function napi_from_the_future');
    expect(message).toContain(`the addon needs Node-API ${PREBUILD_REQUIREMENTS.napiVersion}`);
    expect(message).toContain('undefined symbol: napi_from_the_future'); // the loader's own words, kept
    expect((thrown as Error).cause).toBeInstanceOf(Error);
  });
});
