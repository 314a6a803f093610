/* In-process host emulator; see host_emulator.h. */
#define _GNU_SOURCE
#include "host_emulator.h"

#include <elf.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <ucontext.h>

#define PAGE 4096u

struct emu_guest {
  uint8_t *image;
  size_t image_span;
  uintptr_t text_lo, text_hi; /* executable range: only there is reading rip safe */
  uint64_t entry;
  hl_peb *peb;
  uint8_t *input, *output, *log, *heap, *stack, *guard, *init, *trace;
  uint8_t trace_header[HL_TRACE_HEADER_SIZE];
  emu_config cfg;
};

static struct {
  const char *name;
  emu_host_fn fn;
} host_fns[64];
static size_t host_fn_count;

void emu_register_host(const char *name, emu_host_fn fn) {
  host_fns[host_fn_count].name = name;
  host_fns[host_fn_count++].fn = fn;
}

static size_t round_up(size_t n) { return (n + PAGE - 1) & ~(size_t)(PAGE - 1); }

static void *map(size_t size) {
  void *p = mmap(NULL, round_up(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    exit(2);
  }
  return p;
}

/* ---- ELF loading ------------------------------------------------------------ */

static bool load_image(emu_guest *g, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return perror(path), false;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  rewind(f);
  uint8_t *file = malloc((size_t)size);
  if (fread(file, 1, (size_t)size, f) != (size_t)size) return fclose(f), free(file), false;
  fclose(f);
  Elf64_Ehdr *eh = (Elf64_Ehdr *)file;
  if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_type != ET_DYN) {
    fprintf(stderr, "%s: not a static PIE\n", path);
    free(file);
    return false;
  }
  Elf64_Phdr *ph = (Elf64_Phdr *)(file + eh->e_phoff);
  uint64_t span = 0;
  for (int i = 0; i < eh->e_phnum; i++)
    if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr + ph[i].p_memsz > span) span = ph[i].p_vaddr + ph[i].p_memsz;
  g->image_span = round_up(span);
  g->image = map(g->image_span);
  uint64_t rela = 0, relasz = 0;
  for (int i = 0; i < eh->e_phnum; i++) {
    if (ph[i].p_type == PT_LOAD) memcpy(g->image + ph[i].p_vaddr, file + ph[i].p_offset, ph[i].p_filesz);
    if (ph[i].p_type == PT_DYNAMIC)
      for (Elf64_Dyn *d = (Elf64_Dyn *)(file + ph[i].p_offset); d->d_tag != DT_NULL; d++) {
        if (d->d_tag == DT_RELA) rela = d->d_un.d_ptr;
        if (d->d_tag == DT_RELASZ) relasz = d->d_un.d_val;
      }
  }
  /* The relocation table is inside a loaded segment: read it from the image. */
  for (Elf64_Rela *r = (Elf64_Rela *)(g->image + rela); relasz >= sizeof *r; r++, relasz -= sizeof *r) {
    if (ELF64_R_TYPE(r->r_info) != R_X86_64_RELATIVE) {
      fprintf(stderr, "%s: relocation type %lu\n", path, (unsigned long)ELF64_R_TYPE(r->r_info));
      free(file);
      return false;
    }
    *(uint64_t *)(g->image + r->r_offset) = (uint64_t)(uintptr_t)g->image + (uint64_t)r->r_addend;
  }
  for (int i = 0; i < eh->e_phnum; i++) {
    if (ph[i].p_type != PT_LOAD) continue;
    int prot = (ph[i].p_flags & PF_R ? PROT_READ : 0) | (ph[i].p_flags & PF_W ? PROT_WRITE : 0) |
               (ph[i].p_flags & PF_X ? PROT_EXEC : 0);
    uintptr_t lo = (uintptr_t)g->image + (ph[i].p_vaddr & ~(uint64_t)(PAGE - 1));
    uintptr_t hi = round_up((uintptr_t)g->image + ph[i].p_vaddr + ph[i].p_memsz);
    mprotect((void *)lo, hi - lo, prot);
    if (ph[i].p_flags & PF_X) g->text_lo = lo, g->text_hi = hi;
  }
  g->entry = (uint64_t)(uintptr_t)g->image + eh->e_entry;
  free(file);
  return true;
}

emu_guest *emu_load(const char *path, const emu_config *cfg) {
  emu_guest *g = calloc(1, sizeof *g);
  if (cfg) g->cfg = *cfg;
  emu_config *c = &g->cfg;
  if (!c->input_size) c->input_size = 64 * 1024;
  if (!c->output_size) c->output_size = 64 * 1024;
  if (!c->log_size) c->log_size = 16 * 1024;
  if (!c->heap_size) c->heap_size = 1024 * 1024;
  if (!c->stack_size) c->stack_size = 256 * 1024;
  if (!load_image(g, path)) return free(g), NULL;
  g->input = map(c->input_size);
  g->output = map(c->output_size);
  g->log = map(c->log_size);
  g->heap = map(c->heap_size);
  /* Stack with a not-present guard page just below it. */
  g->guard = map(PAGE + c->stack_size);
  mprotect(g->guard, PAGE, PROT_NONE);
  g->stack = g->guard + PAGE;
  if (c->trace_size) g->trace = map(c->trace_size);
  if (c->init_data_size) {
    g->init = map(c->init_data_size);
    memcpy(g->init, c->init_data, c->init_data_size);
    mprotect(g->init, round_up(c->init_data_size), PROT_READ);
  }
  g->peb = map(PAGE);
  hl_peb *p = g->peb;
  p->magic = HL_PEB_MAGIC;
  p->abi_version = HL_ABI_VERSION;
  p->input_gva = (uintptr_t)g->input, p->input_size = c->input_size;
  p->output_gva = (uintptr_t)g->output, p->output_size = c->output_size;
  p->heap_gva = (uintptr_t)g->heap, p->heap_size = c->heap_size;
  p->stack_gva = (uintptr_t)g->stack, p->stack_size = c->stack_size;
  p->init_data_gva = (uintptr_t)g->init, p->init_data_size = c->init_data_size;
  p->log_gva = (uintptr_t)g->log, p->log_size = c->log_size;
  p->max_log_level = c->max_log_level;
  p->image_gva = (uintptr_t)g->image, p->image_size = g->image_span;
  p->trace_gva = (uintptr_t)g->trace, p->trace_size = c->trace_size;
  emu_peb_writable(g, false);
  return g;
}

void emu_free(emu_guest *g) {
  if (!g) return;
  munmap(g->image, g->image_span);
  munmap(g->input, round_up(g->cfg.input_size));
  munmap(g->output, round_up(g->cfg.output_size));
  munmap(g->log, round_up(g->cfg.log_size));
  munmap(g->heap, round_up(g->cfg.heap_size));
  munmap(g->guard, PAGE + round_up(g->cfg.stack_size));
  if (g->init) munmap(g->init, round_up(g->cfg.init_data_size));
  if (g->trace) munmap(g->trace, round_up(g->cfg.trace_size));
  munmap(g->peb, PAGE);
  free(g);
}

uint8_t *emu_output(emu_guest *g) { return g->output; }
hl_peb *emu_peb(emu_guest *g) { return g->peb; }
void emu_peb_writable(emu_guest *g, bool w) { mprotect(g->peb, PAGE, w ? PROT_READ | PROT_WRITE : PROT_READ); }
void emu_write_input(emu_guest *g, const void *data, size_t len) { memcpy(g->input, data, len); }
uint8_t *emu_trace_header(emu_guest *g) { return g->trace_header; }
uint8_t *emu_trace_area(emu_guest *g) { return g->trace; }
void emu_image_range(emu_guest *g, uintptr_t *lo, uintptr_t *hi) {
  *lo = (uintptr_t)g->image;
  *hi = (uintptr_t)g->image + g->image_span;
}

/* ---- the host side of the exits ---------------------------------------------- */

static emu_guest *current;
static emu_run run_state;
static sigjmp_buf run_exit;

const emu_run *emu_current_run(void) { return &run_state; }

/* Text frame in the output buffer, bounds-checked like the host does. */
static void append_frame(char *dst, size_t *len, size_t cap) {
  const uint8_t *payload;
  size_t n;
  if (hl_wire_frame(current->output, current->cfg.output_size, &payload, &n)) return;
  if (n > cap - *len) n = cap - *len;
  memcpy(dst + *len, payload, n);
  *len += n;
}

static void copy_string(char *dst, size_t cap, const hl_fb_table *t, unsigned id) {
  const char *s;
  uint32_t n;
  bool present;
  dst[0] = 0;
  if (hl_fb_string(t, id, &s, &n, &present) && present) snprintf(dst, cap, "%.*s", (int)n, s);
}

/* Decodes and clears the log area, as the host does on every exit. */
static void drain_log(void) {
  uint8_t *area = current->log;
  uint32_t used;
  memcpy(&used, area, 4);
  size_t pos = 4, end = 4 + (size_t)used;
  if (end > current->cfg.log_size) end = 4;
  while (pos + 4 <= end) {
    uint32_t n;
    memcpy(&n, area + pos, 4);
    if (n > end - pos - 4) break;
    hl_fb_table t;
    if (run_state.log_count < sizeof run_state.logs / sizeof run_state.logs[0] && hl_fb_root(area + pos + 4, n, &t)) {
      emu_log *l = &run_state.logs[run_state.log_count++];
      uint8_t level, dl = HL_LOG_INFO;
      uint32_t line, d0 = 0;
      hl_fb_scalar(&t, 0, 1, &dl, &level);
      hl_fb_scalar(&t, 4, 4, &d0, &line);
      l->level = level;
      l->line = line;
      copy_string(l->message, sizeof l->message, &t, 1);
      copy_string(l->target, sizeof l->target, &t, 2);
      copy_string(l->file, sizeof l->file, &t, 3);
    }
    pos += 4 + ((n + 3) & ~3u);
  }
  memset(area, 0, 4);
}

/* Takes the trace records and lost count and resets both, as the host does on
 * every exit; a `used` beyond the area counts as one lost record. */
static void drain_trace(void) {
  uint8_t *area = current->trace;
  if (!area || current->cfg.trace_size < HL_TRACE_HEADER_SIZE) return;
  uint32_t used, lost;
  memcpy(&used, area + HL_TRACE_OFFSET_USED, 4);
  memcpy(&lost, area + HL_TRACE_OFFSET_LOST, 4);
  run_state.trace_lost += lost;
  if (used > current->cfg.trace_size - HL_TRACE_HEADER_SIZE || used > sizeof run_state.trace - run_state.trace_len) {
    run_state.trace_lost++;
  } else {
    memcpy(run_state.trace + run_state.trace_len, area + HL_TRACE_HEADER_SIZE, used);
    run_state.trace_len += used;
  }
  memset(area, 0, 8);
}

static void serve_host_call(void) {
  const uint8_t *payload;
  size_t len;
  hl_wire_call call;
  hl_result r;
  hl_value args[HL_MAX_GUEST_FUNCTION_PARAMETERS];
  char name[256];
  run_state.host_calls++;
  const char *bad = hl_wire_frame(current->output, current->cfg.output_size, &payload, &len);
  if (!bad) bad = hl_wire_decode_call(payload, len, &call);
  if (!bad && call.args.count > HL_MAX_GUEST_FUNCTION_PARAMETERS) bad = "too many arguments";
  for (uint32_t i = 0; !bad && i < call.args.count; i++) bad = hl_wire_decode_arg(&call, i, &args[i]);
  if (bad) {
    r = (hl_result){HL_ERROR_MALFORMED_MESSAGE, bad, {0}};
  } else {
    snprintf(name, sizeof name, "%.*s", (int)call.name_len, call.name);
    r = (hl_result){HL_ERROR_HOST_FUNCTION_NOT_FOUND, "host function is not registered", {0}};
    for (size_t i = 0; i < host_fn_count; i++)
      if (!strcmp(host_fns[i].name, name)) r = host_fns[i].fn(args, call.args.count);
  }
  if (r.error == EMU_REPLY_GARBAGE) {
    static const uint8_t junk[] = {40, 0, 0, 0, 8, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f};
    memcpy(current->input, junk, sizeof junk);
    return;
  }
  /* The guest's strings point into the output buffer; encode via a copy. */
  static uint8_t scratch[1 << 17];
  size_t n = hl_wire_encode_result(scratch, sizeof scratch, &r);
  if (n == 0 || n > current->cfg.input_size) {
    r = (hl_result){HL_ERROR_MESSAGE_TOO_LARGE, "result too large", {0}};
    n = hl_wire_encode_result(scratch, sizeof scratch, &r);
  }
  memcpy(current->input, scratch, n);
}

/* Decodes `out` at rip: EF = out dx, eax; E7 ib = out imm8, eax (and the
 * byte forms EE / E6 ib). */
static bool decode_out(const uint8_t *rip, const greg_t *regs, int *port, int *len) {
  if (rip[0] == 0xEF || rip[0] == 0xEE) {
    *port = (int)(regs[REG_RDX] & 0xffff);
    *len = 1;
    return true;
  }
  if (rip[0] == 0xE7 || rip[0] == 0xE6) {
    *port = rip[1];
    *len = 2;
    return true;
  }
  return false;
}

static void on_signal(int sig, siginfo_t *si, void *context) {
  ucontext_t *uc = context;
  greg_t *regs = uc->uc_mcontext.gregs;
  uintptr_t rip = (uintptr_t)regs[REG_RIP];
  if (!current) { /* not ours: die as the signal would have killed us */
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  int port, len;
  if (sig == SIGSEGV && rip >= current->text_lo && rip + 2 <= current->text_hi &&
      decode_out((const uint8_t *)rip, regs, &port, &len)) {
    drain_log(); /* the host drains the log and trace areas on every exit */
    drain_trace();
    run_state.exits++;
    uint32_t value = (uint32_t)regs[REG_RAX];
    switch (port) {
      case HL_PORT_HALT:
        run_state.kind = EMU_HALT;
        siglongjmp(run_exit, 1);
      case HL_PORT_ABORT:
        append_frame(run_state.abort_message, &run_state.abort_message_len, sizeof run_state.abort_message - 1);
        run_state.kind = EMU_ABORT;
        run_state.abort_code = value;
        siglongjmp(run_exit, 1);
      case HL_PORT_ABORT_CHUNK:
        append_frame(run_state.abort_message, &run_state.abort_message_len, sizeof run_state.abort_message - 1);
        run_state.abort_chunks++;
        break;
      case HL_PORT_DEBUG_PRINT:
        append_frame(run_state.printed, &run_state.printed_len, sizeof run_state.printed - 1);
        run_state.print_frames++;
        break;
      case HL_PORT_LOG_FLUSH:
        run_state.log_flushes++;
        break;
      case HL_PORT_TRACE_FLUSH:
        run_state.trace_flushes++;
        break;
      case HL_PORT_CALL_HOST:
        serve_host_call();
        break;
      default:
        run_state.kind = EMU_UNKNOWN_PORT;
        run_state.port = port;
        siglongjmp(run_exit, 1);
    }
    regs[REG_RIP] += len; /* resume after the out */
    return;
  }
  drain_trace();
  run_state.kind = sig == SIGALRM ? EMU_TIMEOUT : EMU_FAULT;
  run_state.signo = sig;
  run_state.fault_addr = (uint64_t)(uintptr_t)si->si_addr;
  run_state.fault_in_stack_guard =
      sig == SIGSEGV && (uint8_t *)si->si_addr >= current->guard && (uint8_t *)si->si_addr < current->guard + PAGE;
  siglongjmp(run_exit, 1);
}

static void install_handlers(void) {
  static bool done;
  if (done) return;
  done = true;
  /* The guest stack may be exhausted when a signal arrives: use our own. */
  static uint8_t altstack[256 * 1024];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
  sigaltstack(&ss, NULL);
  struct sigaction sa = {0};
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGSEGV, SIGILL, SIGBUS, SIGFPE, SIGTRAP, SIGALRM};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

const emu_run *emu_enter(emu_guest *g, uint64_t op, unsigned timeout_ms) {
  install_handlers();
  memset(&run_state, 0, sizeof run_state);
  current = g;
  if (g->trace) memcpy(g->trace, g->trace_header, HL_TRACE_HEADER_SIZE);
  struct itimerval t = {{0, 0}, {timeout_ms / 1000, (timeout_ms % 1000) * 1000}};
  setitimer(ITIMER_REAL, &t, NULL);
  if (sigsetjmp(run_exit, 1) == 0) {
    /* Enter like the host: rsp = stack top - 8, rdi = PEB, rsi = op. */
    uint64_t rsp = (uint64_t)(uintptr_t)g->stack + g->cfg.stack_size - 8;
    __asm__ volatile("mov %0, %%rsp\n\txor %%ebp, %%ebp\n\tjmp *%1"
                     :
                     : "r"(rsp), "r"(g->entry), "D"(g->peb), "S"(op)
                     : "memory");
    __builtin_unreachable();
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  current = NULL;
  run_state.abort_message[run_state.abort_message_len] = 0;
  run_state.printed[run_state.printed_len] = 0;
  return &run_state;
}

unsigned emu_call_timeout_ms = 5000;

bool emu_call(emu_guest *g, const char *name, hl_type ret, size_t argc, const hl_value *args, hl_result *result,
              const emu_run **run) {
  if (!hl_wire_encode_call(g->input, g->cfg.input_size, name, strlen(name), args, argc, ret)) return false;
  const emu_run *r = emu_enter(g, HL_OP_CALL, emu_call_timeout_ms);
  if (run) *run = r;
  if (r->kind != EMU_HALT) return false;
  const uint8_t *payload;
  size_t len;
  uint32_t mlen;
  if (hl_wire_frame(g->output, g->cfg.output_size, &payload, &len)) return false;
  if (hl_wire_decode_result(payload, len, result, &mlen)) return false;
  if (result->error) {
    /* Messages are not NUL-terminated in the buffer: keep a terminated copy. */
    static char message[4096];
    snprintf(message, sizeof message, "%.*s", (int)mlen, result->message);
    result->message = message;
  }
  return true;
}
