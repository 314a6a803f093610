# Building hyperlight-ts C guests from your own Makefile.
#
#   include node_modules/@hyperlight-ts/guest-c/link/hyperlight.mk
#
# Simplest: compile and link with the guest compiler driver, which adds every
# guest flag and library itself (see the package README):
#
#   CC := $(HL_CC)
#   guest.elf: main.o util.o
#   	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
#
# Or keep your own compiler and add the flags:
#
#   guest.elf: main.o util.o
#   	$(CC) $(HL_LDFLAGS) -o $@ $^ $(HL_LIBS)
#   %.o: %.c
#   	$(CC) $(HL_CFLAGS) $(CFLAGS) -c $< -o $@
#
# The flags come from the package's CLI (one source of truth, src/flags.ts);
# this file only asks it. HL_CFLAGS already contains -O2; a later -O in
# CFLAGS wins.

HL_GUEST_C_DIR := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
HL_BUILD ?= node $(HL_GUEST_C_DIR)/dist/cli.js

# The compiler driver: CC=$(HL_CC) builds guests with any GCC-style rules.
HL_CC := $(HL_GUEST_C_DIR)/bin/hyperlight-cc
# Compile flags: musl and guest headers, PIE, no red zone, global stack guard.
HL_CFLAGS := $(shell $(HL_BUILD) --print-cflags)
# Link flags (before your objects): static PIE with entry point hyperlight_entry.
HL_LDFLAGS := $(shell $(HL_BUILD) --print-ldflags)
# Libraries (after your objects): the guest runtime and musl's libc.a in one group, libgcc.
HL_LIBS := $(shell $(HL_BUILD) --print-libs)
