/* Hook between the runtime and stdio (stdio.c). */
#ifndef HL_STDIO_INTERNAL_H
#define HL_STDIO_INTERNAL_H

/** Sends buffered stdout/stderr text to the host; the runtime calls it before every exit. */
void hl_stdio_flush(void);

#endif /* HL_STDIO_INTERNAL_H */
