/**
 * @file math.h
 * Double-precision math. sqrt uses the SSE2 instruction (exact); the others
 * are polynomial approximations accurate to a few units in the last place.
 * Domain errors return NaN; errno is not set.
 */
#ifndef HL_LIBC_MATH_H
#define HL_LIBC_MATH_H

#ifdef __cplusplus
extern "C" {
#endif

#define INFINITY (__builtin_inff())      /**< Positive infinity (float). */
#define NAN (__builtin_nanf(""))         /**< A quiet NaN (float). */
#define HUGE_VAL (__builtin_huge_val())  /**< Positive infinity (double). */
#define M_PI 3.14159265358979323846      /**< pi */
#define M_E 2.7182818284590452354        /**< e */

/** Nonzero when `x` is a NaN. */
#define isnan(x) __builtin_isnan(x)
/** Nonzero when `x` is an infinity. */
#define isinf(x) __builtin_isinf(x)
/** Nonzero when `x` is neither infinite nor NaN. */
#define isfinite(x) __builtin_isfinite(x)
/** Nonzero when the sign bit of `x` is set. */
#define signbit(x) __builtin_signbit(x)

/** |x| */
double fabs(double x);
/** |x| for float. */
float fabsf(float x);
/** Largest integer <= x. */
double floor(double x);
/** Smallest integer >= x. */
double ceil(double x);
/** x rounded toward zero. */
double trunc(double x);
/** x rounded to nearest, halfway cases away from zero. */
double round(double x);
/** Remainder of x / y with the sign of x (exact). */
double fmod(double x, double y);
/** Square root (SSE2 sqrtsd, correctly rounded). */
double sqrt(double x);
/** Square root for float (sqrtss). */
float sqrtf(float x);
/** x raised to y. */
double pow(double x, double y);
/** e raised to x. */
double exp(double x);
/** Natural logarithm. */
double log(double x);
/** Base-2 logarithm. */
double log2(double x);
/** Base-10 logarithm. */
double log10(double x);
/** Sine (radians). */
double sin(double x);
/** Cosine (radians). */
double cos(double x);
/** Tangent (radians). */
double tan(double x);
/** Arc tangent, in [-pi/2, pi/2]. */
double atan(double x);
/** Arc tangent of y/x using both signs, in [-pi, pi]. */
double atan2(double y, double x);
/** The smaller argument; a NaN loses to a number. */
double fmin(double x, double y);
/** The larger argument; a NaN loses to a number. */
double fmax(double x, double y);
/** x with the sign of y. */
double copysign(double x, double y);

#ifdef __cplusplus
}
#endif

#endif /* HL_LIBC_MATH_H */
