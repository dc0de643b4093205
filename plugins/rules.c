/*
 * rules.c - date and age arithmetic and time windows for the area
 * plugins' rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules.h"

static int
parse(const char *s, int *y, int *m, int *d)
{
	char extra;

	return s && strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", y, m, d, &extra) == 3 &&
	    *m >= 1 && *m <= 12 && *d >= 1 && *d <= 31 ? 0 : -1;
}

static void
date_write(char out[11], int y, int m, int d)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, d);
	memcpy(out, buf, 10);
	out[10] = '\0';
}

int
age_on(const char *birth, const char *on)
{
	int by, bm, bd, y, m, d, age;

	if (parse(birth, &by, &bm, &bd) < 0 || parse(on, &y, &m, &d) < 0)
		return -1;
	age = y - by;
	if (m < bm || (m == bm && d < bd))
		age--;
	return age < 0 ? -1 : age;
}

void
today_iso(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	date_write(out, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

void
school_cutoff_for(const char *today, int month, int day, char out[11])
{
	int y = 1970, m = 1, d = 1;

	parse(today, &y, &m, &d);
	if (m > month || (m == month && d > day))
		y++;
	date_write(out, y, month, day);
}

int
school_target_grade(int age_on_cutoff, int min_age, int last_completed)
{
	int by_age = age_on_cutoff - min_age + 1;
	int next = last_completed + 1;
	int grade = next < by_age ? next : by_age;

	if (grade > 12)
		grade = 12;
	return grade < 1 ? 1 : grade;
}

long long
urgency_escalate_after(const char *urgency, long long window_hours)
{
	return urgency && strcmp(urgency, "urgent") == 0 && window_hours > 0 ?
	    window_hours * 3600 : 0;
}

int
urgency_escalated(const char *urgency, long long window_hours, long long referred,
    long long booked, long long now)
{
	long long after = urgency_escalate_after(urgency, window_hours);
	long long end = referred + after;

	if (after == 0 || now < end)
		return 0;		/* never, or the window is still open */
	return booked < 0 || booked >= end;
}

int
list_count(const char *list)
{
	int n = 0, in_item = 0;

	for (; list && *list; list++) {
		if (*list == ',') {
			in_item = 0;
		} else if (*list != ' ' && !in_item) {
			in_item = 1;
			n++;
		}
	}
	return n;
}

long long
housing_points(long long household_size, int vulnerabilities, long long w_size,
    long long w_vulnerability)
{
	return w_size * household_size + w_vulnerability * vulnerabilities;
}
