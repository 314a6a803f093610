/* assert() failures become guest panics (docs: GuestPanicError). */
#include <assert.h>
#include <hyperlight/guest.h>

void hl_assert_fail(const char *expr, const char *file, unsigned line) {
  hl_panic("assertion failed: %s (%s:%u)", expr, file, line);
}
