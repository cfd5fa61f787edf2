/*
 * log.c
 *	  stderr logger with one mutex; see log.h.
 */
#include "fkscan/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#include "fkscan/quote.h"
#include "fkscan/strbuf.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static LogLevel		   log_level = LOG_LEVEL_WARNING;

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

/*
 * One message, one entry: a line with its prefix, and any further lines
 * indented by a tab (as libpq indents its own).  A newline inside a message
 * (SQL text, or a table name quoted by the server) can then never start a
 * line that looks like a message of its own ("fkscan: error: ...").  Names
 * and server messages may hold terminal controls: they are made visible
 * (quote_append_visible), never sent raw to stderr.
 */
static void
emit(const char *prefix, const char *fmt, va_list ap)
{
	char   buf[4096];
	StrBuf shown, out;
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	/* drop a trailing newline the caller left in */
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	strbuf_init(&shown);
	quote_append_visible(&shown, buf, true);
	strbuf_init(&out);
	strbuf_append(&out, prefix);
	for (size_t i = 0; i < shown.len; i++)
	{
		strbuf_append_char(&out, shown.data[i]);
		if (shown.data[i] == '\n' && shown.data[i + 1] != '\t')
			strbuf_append_char(&out, '\t');
	}
	strbuf_append_char(&out, '\n');
	pthread_mutex_lock(&log_lock);
	fwrite(out.data, 1, out.len, stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
	strbuf_free(&shown);
	strbuf_free(&out);
}

void
log_msg(LogLevel level, const char *fmt, ...)
{
	static const char *const prefixes[] = {
		"fkscan: debug: ", "fkscan: ", "fkscan: warning: ", "fkscan: error: "};
	va_list ap;

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
	va_list ap;

	if (!last_shown)
		return;
	va_start(ap, fmt);
	emit("DETAIL:  ", fmt, ap);
	va_end(ap);
}

void
log_hint(const char *fmt, ...)
{
	va_list ap;

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
