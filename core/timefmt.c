/*
 * timefmt.c - RFC 3339 times as the API writes and reads them.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "korpud.h"

/* "2026-11-29T06:40:00.123Z" for a Unix time in milliseconds. */
void
time_format_ms(int64_t ms, char *buf, size_t len)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char day[32];

	gmtime_r(&s, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", day, (int)(ms % 1000));
}

/* "2026-11-29T06:40:00Z" for a Unix time in seconds. */
void
time_format_s(int64_t secs, char *buf, size_t len)
{
	time_t s = (time_t)secs;
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * Parses "YYYY-MM-DD" (midnight UTC) or an RFC 3339 time with a "Z" or
 * "+HH:MM"/"-HH:MM" offset and optional fraction, into Unix milliseconds.
 * Returns -1 for anything else.
 */
int
time_parse(const char *s, int64_t *ms)
{
	int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, frac = 0, oh = 0, om = 0, sign = 1;
	const char *p;
	char day[11];
	struct tm tm;

	if (strlen(s) < 10)
		return -1;
	memcpy(day, s, 10);
	day[10] = '\0';
	if (!date_valid(day))
		return -1;
	digits(s, 4, &y);
	digits(s + 5, 2, &mo);
	digits(s + 8, 2, &d);
	p = s + 10;
	if (*p != '\0') {
		if ((*p != 'T' && *p != 't') || strlen(p) < 9 || p[3] != ':' || p[6] != ':' ||
		    digits(p + 1, 2, &h) < 0 || digits(p + 4, 2, &mi) < 0 ||
		    digits(p + 7, 2, &sec) < 0 || h > 23 || mi > 59 || sec > 59)
			return -1;
		p += 9;
		if (*p == '.') {
			int n = 0;
			for (p++; *p >= '0' && *p <= '9'; p++, n++)
				if (n < 3)
					frac = frac * 10 + (*p - '0');
			if (n == 0)
				return -1;
			for (; n < 3; n++)
				frac *= 10;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			sign = *p == '-' ? -1 : 1;
			if (strlen(p) != 6 || p[3] != ':' || digits(p + 1, 2, &oh) < 0 ||
			    digits(p + 4, 2, &om) < 0 || oh > 23 || om > 59)
				return -1;
			p += 6;
		} else {
			return -1;
		}
		if (*p != '\0')
			return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*ms = ((int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60)) * 1000 + frac;
	return 0;
}

/* The wall clock in milliseconds: for times that are stored or shared
 * between instances (durations use now_us, which is monotonic). */
int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
