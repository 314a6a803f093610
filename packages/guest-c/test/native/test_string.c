/* <string.h> and <ctype.h> against glibc. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hlt.h"

static int sign(int x) { return (x > 0) - (x < 0); }

TEST(mem_functions_match_glibc) {
  unsigned char a[300], b[300], c[300];
  for (int i = 0; i < 300; i++) a[i] = (unsigned char)(i * 7 + 3);
  /* Every length and misalignment up to 64, plus larger copies. */
  for (size_t off = 0; off < 9; off++)
    for (size_t n = 0; n < 260; n += (n < 64 ? 1 : 37)) {
      memset(b, 0xAA, sizeof b);
      memset(c, 0xAA, sizeof c);
      hlt_memcpy(b + off, a, n);
      memcpy(c + off, a, n);
      CHECK(!memcmp(b, c, sizeof b), "memcpy off=%zu n=%zu", off, n);
      hlt_memset(b + off, (int)(n + 0x100), n); /* only the low byte counts */
      memset(c + off, (int)(n + 0x100), n);
      CHECK(!memcmp(b, c, sizeof b), "memset off=%zu n=%zu", off, n);
    }
  /* Overlapping moves both ways. */
  for (size_t n = 0; n < 100; n += 3)
    for (int shift = -20; shift <= 20; shift += 5) {
      memcpy(b, a, sizeof a);
      memcpy(c, a, sizeof a);
      hlt_memmove(b + 100 + shift, b + 100, n);
      memmove(c + 100 + shift, c + 100, n);
      CHECK(!memcmp(b, c, sizeof b), "memmove n=%zu shift=%d", n, shift);
    }
  memcpy(b, a, sizeof a);
  for (size_t n = 0; n < 40; n++) {
    CHECK(hlt_memcmp(a, b, n) == 0, "memcmp equal n=%zu", n);
    b[n] ^= 0x80;
    CHECK(sign(hlt_memcmp(a, b, n + 1)) == sign(memcmp(a, b, n + 1)), "memcmp differ n=%zu", n);
    b[n] ^= 0x80;
  }
  CHECK(hlt_memchr(a, a[77], 200) == memchr(a, a[77], 200), "memchr");
  CHECK(hlt_memchr(a, 0x1ff, 0) == NULL, "memchr n=0");
}

TEST(str_functions_match_glibc) {
  const char *words[] = {"", "a", "abc", "abd", "ab", "hello world", "\xff\x80", "zzz"};
  size_t nw = sizeof words / sizeof words[0];
  for (size_t i = 0; i < nw; i++) {
    CHECK(hlt_strlen(words[i]) == strlen(words[i]), "strlen %s", words[i]);
    CHECK(hlt_strnlen(words[i], 2) == strnlen(words[i], 2), "strnlen %s", words[i]);
    for (size_t j = 0; j < nw; j++) {
      CHECK(sign(hlt_strcmp(words[i], words[j])) == sign(strcmp(words[i], words[j])), "strcmp %zu %zu", i, j);
      for (size_t n = 0; n < 4; n++)
        CHECK(sign(hlt_strncmp(words[i], words[j], n)) == sign(strncmp(words[i], words[j], n)), "strncmp %zu %zu %zu",
              i, j, n);
    }
  }
  const char *s = "the quick brown fox";
  for (int ch = 0; ch < 128; ch++) {
    CHECK(hlt_strchr(s, ch) == strchr(s, ch), "strchr %d", ch);
    CHECK(hlt_strrchr(s, ch) == strrchr(s, ch), "strrchr %d", ch);
  }
  const char *needles[] = {"", "the", "fox", "quick b", "x", "foxes", "k br"};
  for (size_t i = 0; i < sizeof needles / sizeof needles[0]; i++)
    CHECK(hlt_strstr(s, needles[i]) == strstr(s, needles[i]), "strstr %s", needles[i]);
  CHECK(hlt_strspn(s, "eht ") == strspn(s, "eht "), "strspn");
  CHECK(hlt_strcspn(s, "qb") == strcspn(s, "qb"), "strcspn");

  char b1[32], b2[32];
  memset(b1, 'X', sizeof b1);
  memset(b2, 'X', sizeof b2);
  hlt_strcpy(b1, "abc");
  strcpy(b2, "abc");
  hlt_strcat(b1, "def");
  strcat(b2, "def");
  hlt_strncat(b1, "ghijk", 2);
  strncat(b2, "ghijk", 2);
  CHECK(!memcmp(b1, b2, sizeof b1), "strcpy/strcat/strncat: %s vs %s", b1, b2);
  for (size_t n = 0; n < 12; n++) {
    memset(b1, 'X', sizeof b1);
    memset(b2, 'X', sizeof b2);
    hlt_strncpy(b1, "hello", n);
    strncpy(b2, "hello", n);
    CHECK(!memcmp(b1, b2, sizeof b1), "strncpy n=%zu", n);
  }
}

static char heap_arena[1 << 16];

TEST(strdup_uses_guest_heap) {
  hlt_hl_heap_init(heap_arena, sizeof heap_arena);
  char *d = hlt_strdup("copy me");
  CHECK(d && !strcmp(d, "copy me"), "strdup");
  CHECK((char *)d >= heap_arena && (char *)d < heap_arena + sizeof heap_arena, "strdup outside the arena");
  char *e = hlt_strndup("copy me", 4);
  CHECK(e && !strcmp(e, "copy"), "strndup");
  hlt_free(d);
  hlt_free(e);
}

TEST(ctype_matches_glibc_c_locale) {
  for (int c = -1; c < 256; c++) {
    CHECK(!hlt_isalnum(c) == !isalnum(c), "isalnum %d", c);
    CHECK(!hlt_isalpha(c) == !isalpha(c), "isalpha %d", c);
    CHECK(!hlt_isblank(c) == !isblank(c), "isblank %d", c);
    CHECK(!hlt_iscntrl(c) == !iscntrl(c), "iscntrl %d", c);
    CHECK(!hlt_isdigit(c) == !isdigit(c), "isdigit %d", c);
    CHECK(!hlt_isgraph(c) == !isgraph(c), "isgraph %d", c);
    CHECK(!hlt_islower(c) == !islower(c), "islower %d", c);
    CHECK(!hlt_isprint(c) == !isprint(c), "isprint %d", c);
    CHECK(!hlt_ispunct(c) == !ispunct(c), "ispunct %d", c);
    CHECK(!hlt_isspace(c) == !isspace(c), "isspace %d", c);
    CHECK(!hlt_isupper(c) == !isupper(c), "isupper %d", c);
    CHECK(!hlt_isxdigit(c) == !isxdigit(c), "isxdigit %d", c);
    CHECK(hlt_tolower(c) == tolower(c), "tolower %d", c);
    CHECK(hlt_toupper(c) == toupper(c), "toupper %d", c);
  }
}
