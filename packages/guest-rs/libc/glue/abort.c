/* abort(), replacing musl's src/exit/abort.c: there are no signals to raise, the call ends. */
#include <stdlib.h>
#include "hl_runtime.h"

_Noreturn void abort(void)
{
	__hl_abort(HL_ABORT_CODE_PANIC, "abort() called");
}
