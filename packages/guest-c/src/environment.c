/* Read-only views of the run's environment. */
#include "runtime.h"

const hl_peb *hl_get_peb(void) { return hl_rt_peb; }

const void *hl_init_data(size_t *size) {
  const hl_peb *p = hl_rt_peb;
  bool any = p && p->init_data_size;
  if (size) *size = any ? (size_t)p->init_data_size : 0;
  return any ? (const void *)(uintptr_t)p->init_data_gva : NULL;
}
