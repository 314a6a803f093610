import { describe, expect, it } from 'vitest';
import {
  CREATE_PARTITION, CREATE_VP, HV_INPUT, HV_MESSAGE, MSHV_IOCTL, REGISTER_PAGE, ROOT_HVCALL, RUN_VP, USER_MEM_REGION, VP_STATE,
} from '../src/mshv-abi.js';

/** Linux's _IOC encoding: dir << 30 | size << 16 | type << 8 | nr. */
const ioc = (dir: number, nr: number, size: number) => ((dir << 30) | (size << 16) | (0xb8 << 8) | nr) >>> 0;
const IOW = 1, IOR = 2, IOWR = 3;

describe('the in-kernel /dev/mshv ABI (include/uapi/linux/mshv.h)', () => {
  it('derives every ioctl number from its direction, number and argument size', () => {
    expect(MSHV_IOCTL).toEqual({
      MSHV_CREATE_PARTITION: ioc(IOW, 0x00, CREATE_PARTITION.size),
      MSHV_INITIALIZE_PARTITION: ioc(0, 0x00, 0),
      MSHV_CREATE_VP: ioc(IOW, 0x01, CREATE_VP.size),
      MSHV_SET_GUEST_MEMORY: ioc(IOW, 0x02, USER_MEM_REGION.size),
      MSHV_ROOT_HVCALL: ioc(IOWR, 0x07, ROOT_HVCALL.size),
      MSHV_RUN_VP: ioc(IOR, 0x00, RUN_VP.size),
      MSHV_GET_VP_STATE: ioc(IOWR, 0x01, VP_STATE.size),
      MSHV_SET_VP_STATE: ioc(IOWR, 0x02, VP_STATE.size),
    });
  });

  it('matches the documented sizes and offsets', () => {
    expect(CREATE_PARTITION).toMatchObject({ size: 16, ptFlags: 0, ptIsolation: 8 });
    expect(USER_MEM_REGION).toMatchObject({ size: 32, sizeField: 0, guestPfn: 8, userspaceAddr: 16, flags: 24, writable: 1, executable: 2, unmap: 4 });
    expect(ROOT_HVCALL).toMatchObject({ size: 32, code: 0, reps: 2, inSize: 4, outSize: 6, status: 8, inPtr: 16, outPtr: 24 });
    expect(VP_STATE).toMatchObject({ size: 16, type: 0, bufSize: 4, bufPtr: 8, typeXsave: 1 });
    expect(HV_INPUT).toMatchObject({ vpRegistersHeader: 16, vpIndex: 8, assocSize: 32, assocValue: 16, valueSize: 16, setPropertySize: 24, propertyValue: 16 });
    expect(REGISTER_PAGE).toMatchObject({ size: 696, isValid: 2, dirty: 4, gprs: 8, rip: 136, rflags: 144 });
    expect(HV_MESSAGE).toMatchObject({ size: 256, payload: 16, instructionLength: 20, interceptAccessType: 21, rip: 40, ioPort: 56, ioAccessInfo: 58, ioRax: 64, memoryGpa: 72 });
  });
});
