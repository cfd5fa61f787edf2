/*
 * log.h
 *	  Thread-safe diagnostics on stderr, in the style of PostgreSQL's
 *	  common/logging.h: "fkscan: error: <primary>", then optional
 *	  "DETAIL:" and "HINT:" lines.
 *
 * The primary message is one lower-case line without a trailing period that
 * names the culprit.  Each call formats into a local buffer and writes it with
 * one locked fwrite, so lines from worker threads never interleave.  A
 * newline inside a message (SQL text, a name quoted by the server) continues
 * it on a line indented by a tab: only a new message starts a line with
 * "fkscan:", "DETAIL:" or "HINT:".
 */
#ifndef FKSCAN_LOG_H
#define FKSCAN_LOG_H

#include <stdio.h>

#include "fkscan/common.h"

typedef enum LogLevel
{
	LOG_LEVEL_DEBUG = 0,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_OFF
} LogLevel;

/* Messages below this level are dropped; default LOG_LEVEL_WARNING. */
void	 log_set_level(LogLevel level);
LogLevel log_get_level(void);

void log_msg(LogLevel level, const char *fmt, ...) FK_PRINTF(2, 3);
/* Continuation lines of the previous message ("DETAIL: ...", "HINT: ..."). */
void log_detail(const char *fmt, ...) FK_PRINTF(1, 2);
void log_hint(const char *fmt, ...) FK_PRINTF(1, 2);

/* Write a preformatted line to stderr under the log lock (progress lines). */
void log_raw(const char *text);

#define log_error(...)	 log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...)                             \
	do                                            \
	{                                             \
		if (log_get_level() <= LOG_LEVEL_INFO)    \
			log_msg(LOG_LEVEL_INFO, __VA_ARGS__); \
	} while (0)
#define log_debug(...)                             \
	do                                             \
	{                                              \
		if (log_get_level() <= LOG_LEVEL_DEBUG)    \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__); \
	} while (0)

#endif /* FKSCAN_LOG_H */
