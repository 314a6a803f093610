/*
 * The guest of {{name}}. `{{runBuild}}` compiles this file into
 * dist/guest.elf; index.mjs runs it in a micro VM and calls the functions
 * registered in hyperlight_main below.
 */
#include <hyperlight/guest.h>
#include <stdint.h>

/* Lives in guest memory: it grows with every call until the host restores a snapshot. */
static uint32_t calls;

/* Greet(name: string) -> string */
static hl_result greet(const hl_call *call) {
  const char *name = hl_arg_string(call, 0, NULL);
  return hl_ok(hl_string_printf("Hello, %s! This is a C guest in a micro VM.", name));
}

/* Count() -> i32: counts its own calls. */
static hl_result count(const hl_call *call) {
  (void)call;
  calls++;
  return hl_ok(hl_i32((int32_t)(calls & INT32_MAX)));
}

/* AskHost(question: string) -> string, through the host function "Answer" (registered by index.mjs). */
static hl_result ask_host(const hl_call *call) {
  const char *question = hl_arg_string(call, 0, NULL);
  hl_result reply = hl_call_host("Answer", HL_TYPE_STRING, 1, hl_string(question));
  if (hl_is_err(&reply)) return reply; /* a failing host function fails this call too */
  return hl_ok(hl_string_printf("The host says: %s", reply.value.as.string.data));
}

/* Called once when the host starts the guest: register the guest functions. */
void hyperlight_main(void) {
  hl_register_function("Greet", greet, HL_TYPE_STRING, 1, HL_TYPE_STRING);
  hl_register_function("Count", count, HL_TYPE_I32, 0);
  hl_register_function("AskHost", ask_host, HL_TYPE_STRING, 1, HL_TYPE_STRING);
}
