/*
 * employment.c - referrals to employment agencies and job centres.
 * Booking model: slot (one client per advisor appointment).
 * The rules (working age, permits, routing to the soonest free slot in
 * the client's region) build on these fields and settings.
 */
#include <stdlib.h>

#include <korpu/plugin.h>

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
	.reconfigure = employment_reconfigure,
};
