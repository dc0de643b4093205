/*
 * log.c - levelled log lines to stderr or syslog. A line written while
 * serving a request carries that request's id, so one grep follows it.
 * Never pass passwords, tokens or personal data to these functions.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "korpud.h"

static int log_max = LOG_INFO;
static int log_syslog;
/* The request being handled right now, on the loop thread: lines logged
 * without an explicit id while it runs (a plugin hook's, say) carry it. */
static char log_current[65];

static const struct {
	const char *name;
	int level;
} levels[] = {
	{ "error", LOG_ERR }, { "warning", LOG_WARNING },
	{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
};

static const char *
level_name(int level)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (levels[i].level == level)
			return levels[i].name;
	return "info";
}

/* Returns the syslog level for a name, or -1. */
int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcasecmp(levels[i].name, name) == 0)
			return levels[i].level;
	return -1;
}

/* libevent's own warnings come through here instead of its stderr. */
static void
log_from_libevent(int severity, const char *msg)
{
	int level = severity >= EVENT_LOG_ERR ? LOG_ERR :
	    severity == EVENT_LOG_WARN ? LOG_WARNING :
	    severity == EVENT_LOG_MSG ? LOG_INFO : LOG_DEBUG;

	log_msg(level, NULL, "libevent: %s", msg);
}

void
log_setup(int level, int use_syslog)
{
	if (use_syslog && !log_syslog)
		openlog("korpud", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!use_syslog && log_syslog)
		closelog();
	log_syslog = use_syslog;
	log_max = level;
	event_set_log_callback(log_from_libevent);
}

void
log_set_request(const char *reqid)
{
	snprintf(log_current, sizeof(log_current), "%s", reqid ? reqid : "");
}

void
log_vmsg(int level, const char *reqid, const char *prefix, const char *fmt,
    va_list ap)
{
	char text[2048];
	char stamp[32];
	struct timespec ts;
	struct tm tm;

	if (level > log_max)
		return;
	if (reqid == NULL && log_current[0])
		reqid = log_current;
	vsnprintf(text, sizeof(text), fmt, ap);
	if (log_syslog) {
		syslog(level, "%s%s%s%s%s", reqid ? "req=" : "", reqid ? reqid : "",
		    reqid ? " " : "", prefix ? prefix : "", text);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s %s%s%s%s%s\n", stamp, ts.tv_nsec / 1000000,
	    level_name(level), reqid ? "req=" : "", reqid ? reqid : "",
	    reqid ? " " : "", prefix ? prefix : "", text);
}

void
log_msg(int level, const char *reqid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, reqid, NULL, fmt, ap);
	va_end(ap);
}
