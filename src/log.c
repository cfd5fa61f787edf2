/*
 * log.c
 *	  stderr logger with one mutex; see log.h.
 */
#include "fkscan/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static LogLevel log_level = LOG_LEVEL_WARNING;

/* Whether the last message passed the level filter: its DETAIL/HINT follow it. */
static _Thread_local bool last_shown = false;

void
log_set_level(LogLevel level)
{
	log_level = level;
}

LogLevel
log_get_level(void)
{
	return log_level;
}

static void
emit(const char *prefix, const char *fmt, va_list ap)
{
	char		buf[4096];
	size_t		n;

	n = (size_t) snprintf(buf, sizeof(buf), "%s", prefix);
	if (n < sizeof(buf))
		vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	n = strlen(buf);
	/* One line per message: drop a trailing newline the caller left in. */
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	if (n + 1 < sizeof(buf))
	{
		buf[n++] = '\n';
		buf[n] = '\0';
	}
	pthread_mutex_lock(&log_lock);
	fwrite(buf, 1, n, stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

void
log_msg(LogLevel level, const char *fmt, ...)
{
	static const char *const prefixes[] = {
		"fkscan: debug: ", "fkscan: ", "fkscan: warning: ", "fkscan: error: "
	};
	va_list		ap;

	last_shown = level >= log_level && level < LOG_LEVEL_OFF;
	if (!last_shown)
		return;
	va_start(ap, fmt);
	emit(prefixes[level], fmt, ap);
	va_end(ap);
}

void
log_detail(const char *fmt, ...)
{
	va_list		ap;

	if (!last_shown)
		return;
	va_start(ap, fmt);
	emit("DETAIL:  ", fmt, ap);
	va_end(ap);
}

void
log_hint(const char *fmt, ...)
{
	va_list		ap;

	if (!last_shown)
		return;
	va_start(ap, fmt);
	emit("HINT:  ", fmt, ap);
	va_end(ap);
}

void
log_raw(const char *text)
{
	pthread_mutex_lock(&log_lock);
	fputs(text, stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}
