/*
 * integration.c - language and civic orientation courses (intercultural
 * dialogue). Booking model: session: group sessions with a capacity, a
 * client booked into a whole course at once.
 */
#include <stdlib.h>

#include <korpu/plugin.h>

static const char *const course_types[] = { "language", "civic_orientation", NULL };
static const char *const levels[] = { "A0", "A1", "A2", "B1", "B2", NULL };
static const char *const schedules[] = { "morning", "evening", NULL };

static const struct korpu_field fields[] = {
	{ "course_type", "Course", KORPU_FIELD_ENUM, 1, course_types, 0, 0 },
	{ "current_level", "Current language level (CEFR)", KORPU_FIELD_ENUM, 1, levels, 0, 0 },
	{ "preferred_schedule", "Preferred schedule", KORPU_FIELD_ENUM, 1, schedules, 0, 0 },
	{ NULL, NULL, 0, 0, NULL, 0, 0 }
};

static const struct korpu_setting settings[] = {
	{ "session_capacity", KORPU_SETTING_INT, 0, 1, 200, NULL, "places per group session (default 12)" },
	{ "answer_deadline_hours", KORPU_SETTING_INT, 0, 1, 720, NULL,
	  "hours a course provider has to accept or decline (default 120)" },
	{ NULL, 0, 0, 0, 0, NULL, NULL }
};

struct integration {
	const struct korpu_host *host;
	struct korpu_plugin_ctx *ctx;
	long long session_capacity, answer_deadline_hours;
};

static void
integration_read_settings(struct integration *in)
{
	in->host->config_int(in->ctx, "session_capacity", 12, &in->session_capacity);
	in->host->config_int(in->ctx, "answer_deadline_hours", 120, &in->answer_deadline_hours);
}

static int
integration_init(const struct korpu_host *host, struct korpu_plugin_ctx *ctx,
    void **state, char *err, size_t errlen)
{
	struct integration *in = calloc(1, sizeof(*in));

	if (in == NULL)
		return -1;
	in->host = host;
	in->ctx = ctx;
	integration_read_settings(in);
	*state = in;
	return 0;
}

static void
integration_fini(void *state)
{
	free(state);
}

static void
integration_reconfigure(void *state)
{
	integration_read_settings(state);
}

KORPU_PLUGIN_EXPORT const struct korpu_plugin korpu_plugin = {
	KORPU_PLUGIN_V1,
	.name = "integration",
	.title = "Language and orientation courses",
	.version = "1.0.0",
	.booking_model = KORPU_BOOKING_SESSION,
	.fields = fields,
	.settings = settings,
	.init = integration_init,
	.fini = integration_fini,
	.reconfigure = integration_reconfigure,
};
