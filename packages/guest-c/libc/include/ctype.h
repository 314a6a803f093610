/**
 * @file ctype.h
 * Character classification for the "C" locale (ASCII); arguments must be
 * EOF or representable as unsigned char.
 */
#ifndef HL_LIBC_CTYPE_H
#define HL_LIBC_CTYPE_H

#ifdef __cplusplus
extern "C" {
#endif

/** Letter or digit. */
int isalnum(int c);
/** Letter. */
int isalpha(int c);
/** Space or tab. */
int isblank(int c);
/** Control character (0-31, 127). */
int iscntrl(int c);
/** Decimal digit. */
int isdigit(int c);
/** Printable, not space. */
int isgraph(int c);
/** Lowercase letter. */
int islower(int c);
/** Printable, space included. */
int isprint(int c);
/** Printable, not space, not alphanumeric. */
int ispunct(int c);
/** Space, \t \n \v \f \r. */
int isspace(int c);
/** Uppercase letter. */
int isupper(int c);
/** Hexadecimal digit. */
int isxdigit(int c);
/** @returns the lowercase form of an uppercase letter, else `c`. */
int tolower(int c);
/** @returns the uppercase form of a lowercase letter, else `c`. */
int toupper(int c);

#ifdef __cplusplus
}
#endif

#endif /* HL_LIBC_CTYPE_H */
