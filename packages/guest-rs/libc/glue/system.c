/* system(), replacing musl's src/process/system.c: a guest has no shell and cannot start processes. */
#include <errno.h>
#include <stdlib.h>

int system(const char *cmd)
{
	if (!cmd) return 0;
	errno = ENOSYS;
	return -1;
}
