# Building hyperlight-ts C guests from your own Makefile.
#
#   include node_modules/@hyperlight-ts/guest-c/link/hyperlight.mk
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

# Compile flags: freestanding, guest libc + runtime headers, PIE, no red zone.
HL_CFLAGS := $(shell $(HL_BUILD) --print-cflags)
# Link flags (before your objects): static PIE with entry point hl_entry.
HL_LDFLAGS := $(shell $(HL_BUILD) --print-ldflags)
# Libraries (after your objects): libhyperlight_guest.a and libgcc.
HL_LIBS := $(shell $(HL_BUILD) --print-libs)
