/*
 * schools.c - school places for children.
 * Booking model: seat (places per grade and school year, with an intake
 * appointment). School age is reckoned on the school year's cut-off date.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <korpu/plugin.h>

#include "rules.h"

static const char *const instruction_languages[] = { "az", "ru", "en", "ka", NULL };

static const struct korpu_field fields[] = {
	{ "last_grade_completed", "Last grade completed (0 if none)", KORPU_FIELD_INTEGER, 1, NULL, 0, 12 },
	{ "instruction_language", "Language of instruction wanted", KORPU_FIELD_ENUM, 1, instruction_languages, 0, 0 },
	{ "special_educational_needs", "Special educational needs", KORPU_FIELD_BOOLEAN, 0, NULL, 0, 0 },
	{ "special_needs_details", "Details of special educational needs", KORPU_FIELD_STRING, 0, NULL, 0, 500 },
	{ "documents_available", "Previous school documents available", KORPU_FIELD_BOOLEAN, 1, NULL, 0, 0 },
	{ NULL, NULL, 0, 0, NULL, 0, 0 }
};

static const struct korpu_setting settings[] = {
	{ "min_age", KORPU_SETTING_INT, 0, 3, 21, NULL, "youngest school age on the cut-off date (default 6)" },
	{ "max_age", KORPU_SETTING_INT, 0, 3, 21, NULL, "oldest school age on the cut-off date (default 17)" },
	{ "cutoff", KORPU_SETTING_STRING, 0, 5, 5, NULL, "cut-off date as MM-DD (default 09-01)" },
	{ "answer_deadline_hours", KORPU_SETTING_INT, 0, 1, 720, NULL,
	  "hours a school has to accept or decline (default 120)" },
	{ NULL, 0, 0, 0, 0, NULL, NULL }
};

struct schools {
	const struct korpu_host *host;
	struct korpu_plugin_ctx *ctx;
	long long min_age, max_age, answer_deadline_hours;
	int cutoff_month, cutoff_day;
};

/* Reads and checks settings; returns -1 with a reason for bad values. */
static int
schools_read_settings(struct schools *s, char *err, size_t errlen)
{
	const char *cutoff;
	int m = 0, d = 0;
	char extra;

	s->host->config_int(s->ctx, "min_age", 6, &s->min_age);
	s->host->config_int(s->ctx, "max_age", 17, &s->max_age);
	s->host->config_int(s->ctx, "answer_deadline_hours", 120, &s->answer_deadline_hours);
	cutoff = s->host->config_string(s->ctx, "cutoff", "09-01");
	if (s->min_age > s->max_age) {
		snprintf(err, errlen, "min_age (%lld) is above max_age (%lld)", s->min_age, s->max_age);
		return -1;
	}
	if (sscanf(cutoff, "%2d-%2d%c", &m, &d, &extra) != 2 || m < 1 || m > 12 || d < 1 ||
	    d > (m == 2 ? 28 : (m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31)) {
		snprintf(err, errlen, "cutoff \"%s\" is not a MM-DD date", cutoff);
		return -1;
	}
	s->cutoff_month = m;
	s->cutoff_day = d;
	return 0;
}

static int
schools_init(const struct korpu_host *host, struct korpu_plugin_ctx *ctx,
    void **state, char *err, size_t errlen)
{
	struct schools *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -1;
	s->host = host;
	s->ctx = ctx;
	if (schools_read_settings(s, err, errlen) < 0) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static void
schools_fini(void *state)
{
	free(state);
}

static void
schools_reconfigure(void *state)
{
	struct schools *s = state, next = *s;
	char err[128];

	/* korpud checked types and ranges; a bad combination keeps the old. */
	if (schools_read_settings(&next, err, sizeof(err)) < 0) {
		s->host->log(s->ctx, KORPU_LOG_ERROR, "new settings ignored: %s", err);
		return;
	}
	*s = next;
}

/* Eligibility: school age on the cut-off date of the school year the
 * referral is for (the coming one). */
static int
schools_validate(void *state, const struct korpu_referral *ref, struct korpu_errors *errs)
{
	struct schools *s = state;
	const char *born = s->host->referral_string(ref, "client.birth_date");
	char today[11], cutoff[11], msg[200];
	int age;

	today_iso(today);
	school_cutoff_for(today, s->cutoff_month, s->cutoff_day, cutoff);
	age = age_on(born, cutoff);
	if (age >= 0 && (age < s->min_age || age > s->max_age)) {
		snprintf(msg, sizeof(msg), "the client is %d on %s; schools take children of "
		    "%lld to %lld on that day", age, cutoff, s->min_age, s->max_age);
		s->host->error_add(errs, "client.birth_date", msg);
	}
	return 0;
}

/* The grade to join: after the last completed, never above the age's. */
static int
schools_seat_grade(void *state, const struct korpu_referral *ref)
{
	struct schools *s = state;
	const char *born = s->host->referral_string(ref, "client.birth_date");
	long long last = 0;
	char today[11], cutoff[11];
	int age;

	if (s->host->referral_integer(ref, "fields.last_grade_completed", &last) < 0)
		return -1;
	today_iso(today);
	school_cutoff_for(today, s->cutoff_month, s->cutoff_day, cutoff);
	age = age_on(born, cutoff);
	if (age < 0)
		return -1;
	return school_target_grade(age, (int)s->min_age, (int)last);
}

KORPU_PLUGIN_EXPORT const struct korpu_plugin korpu_plugin = {
	KORPU_PLUGIN_V1,
	.name = "schools",
	.title = "School places and education",
	.version = "1.0.0",
	.booking_model = KORPU_BOOKING_SEAT,
	.fields = fields,
	.settings = settings,
	.init = schools_init,
	.fini = schools_fini,
	.validate = schools_validate,
	.reconfigure = schools_reconfigure,
	.seat_grade = schools_seat_grade,
};
