/*
 * common.h
 *	  Basics shared by every fkscan module: exit codes, version, small macros.
 *
 * The exit codes are the user's contract (DESIGN.md): scripts gate pipelines
 * on them, so they never change meaning.
 */
#ifndef FKSCAN_COMMON_H
#define FKSCAN_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FKSCAN_VERSION "0.1.0"

/* Exit codes: 0 nothing found, 1 orphans or broken FK state, 2 error/incomplete. */
#define FK_EXIT_OK	  0
#define FK_EXIT_FOUND 1
#define FK_EXIT_ERROR 2

/* An option that is on, off, or left to fkscan. */
typedef enum TriValue
{
	TRI_DEFAULT = 0,
	TRI_NO,
	TRI_YES
} TriValue;

#define FK_LENGTHOF(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define FK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define FK_LIKELY(x)	__builtin_expect(!!(x), 1)
#define FK_UNLIKELY(x)	__builtin_expect(!!(x), 0)
#else
#define FK_PRINTF(f, a)
#define FK_LIKELY(x)   (x)
#define FK_UNLIKELY(x) (x)
#endif

#endif /* FKSCAN_COMMON_H */
