/*
 * employment.c - referrals to employment agencies and job centres.
 * Booking model: slot (one client per advisor appointment).
 * The rules (working age, permits, routing to the soonest free slot in
 * the client's region) build on these fields and settings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <korpu/plugin.h>

#include "rules.h"

static const char *const permit_status[] = {
	"not_required", "holds_permit", "applied", "none", NULL
};
static const char *const education_levels[] = {
	"none", "primary", "lower_secondary", "upper_secondary", "vocational",
	"bachelor", "master", "doctorate", NULL
};
static const char *const sectors[] = {
	"agriculture", "construction", "manufacturing", "trade", "hospitality",
	"health_care", "education", "information_technology", "transport",
	"cleaning_and_care", "other", NULL
};

static const struct korpu_field fields[] = {
	{ "work_permit_status", "Work permit status", KORPU_FIELD_ENUM, 1, permit_status, 0, 0 },
	{ "work_permit_number", "Work permit number", KORPU_FIELD_STRING, 0, NULL, 0, 64 },
	{ "education_level", "Highest education completed", KORPU_FIELD_ENUM, 1, education_levels, 0, 0 },
	{ "skills", "Occupations and skills (comma-separated)", KORPU_FIELD_STRING, 0, NULL, 0, 500 },
	{ "languages", "Languages spoken (comma-separated)", KORPU_FIELD_STRING, 0, NULL, 0, 200 },
	{ "preferred_sector", "Preferred sector", KORPU_FIELD_ENUM, 0, sectors, 0, 0 },
	{ "available_from", "Available to start from", KORPU_FIELD_DATE, 0, NULL, 0, 0 },
	{ NULL, NULL, 0, 0, NULL, 0, 0 }
};

static const struct korpu_setting settings[] = {
	{ "min_age", KORPU_SETTING_INT, 0, 14, 100, NULL, "youngest age referred (default 15)" },
	{ "permits_allowing_work", KORPU_SETTING_STRING_LIST, 0, 1, 8, permit_status,
	  "work permit statuses that allow work (default not_required, holds_permit)" },
	{ "slot_minutes", KORPU_SETTING_INT, 0, 5, 240, NULL, "default advisor slot length (default 30)" },
	{ "answer_deadline_hours", KORPU_SETTING_INT, 0, 1, 720, NULL,
	  "hours a provider has to accept or decline (default 72)" },
	{ NULL, 0, 0, 0, 0, NULL, NULL }
};

struct employment {
	const struct korpu_host *host;
	struct korpu_plugin_ctx *ctx;
	long long min_age, slot_minutes, answer_deadline_hours;
};

static void
employment_read_settings(struct employment *e)
{
	e->host->config_int(e->ctx, "min_age", 15, &e->min_age);
	e->host->config_int(e->ctx, "slot_minutes", 30, &e->slot_minutes);
	e->host->config_int(e->ctx, "answer_deadline_hours", 72, &e->answer_deadline_hours);
}

static int
employment_init(const struct korpu_host *host, struct korpu_plugin_ctx *ctx,
    void **state, char *err, size_t errlen)
{
	struct employment *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return -1;
	e->host = host;
	e->ctx = ctx;
	employment_read_settings(e);
	*state = e;
	return 0;
}

static void
employment_fini(void *state)
{
	free(state);
}

static void
employment_reconfigure(void *state)
{
	employment_read_settings(state);
}

static int
permit_allows_work(struct employment *e, const char *status)
{
	size_t n = e->host->config_list_len(e->ctx, "permits_allowing_work");

	if (n == 0)	/* not configured: the defaults */
		return strcmp(status, "not_required") == 0 || strcmp(status, "holds_permit") == 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(e->host->config_list_at(e->ctx, "permits_allowing_work", i), status) == 0)
			return 1;
	return 0;
}

/* Eligibility: working age today, and a permit (or a status) that lets
 * the client work. */
static int
employment_validate(void *state, const struct korpu_referral *ref, struct korpu_errors *errs)
{
	struct employment *e = state;
	const char *born = e->host->referral_string(ref, "client.birth_date");
	const char *permit = e->host->referral_string(ref, "fields.work_permit_status");
	char today[11], msg[200];
	int age;

	today_iso(today);
	age = age_on(born, today);
	if (age >= 0 && age < e->min_age) {
		snprintf(msg, sizeof(msg), "the client is %d; employment services take clients "
		    "from %lld", age, e->min_age);
		e->host->error_add(errs, "client.birth_date", msg);
	}
	if (permit && !permit_allows_work(e, permit))
		e->host->error_add(errs, "fields.work_permit_status", "the client needs a work "
		    "permit, or a status that allows work, before an employment referral");
	return 0;
}

KORPU_PLUGIN_EXPORT const struct korpu_plugin korpu_plugin = {
	KORPU_PLUGIN_V1,
	.name = "employment",
	.title = "Employment and the labour market",
	.version = "1.0.0",
	.booking_model = KORPU_BOOKING_SLOT,
	.fields = fields,
	.settings = settings,
	.init = employment_init,
	.fini = employment_fini,
	.validate = employment_validate,
	.reconfigure = employment_reconfigure,
	.flags = KORPU_AREA_ROUTE_SOONEST,	/* the job centre that can see them first */
};
