/*
 * clinics.c - referrals to clinics and health services.
 * Booking model: slot. Emergencies are never booked: the caseworker is
 * told the emergency number and procedure instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <korpu/plugin.h>

#include "rules.h"

static const char *const urgencies[] = { "routine", "urgent", "emergency", NULL };
static const char *const categories[] = {
	"general_practice", "maternal", "child_health", "mental_health", "dental", NULL
};

static const struct korpu_field fields[] = {
	{ "urgency", "Urgency", KORPU_FIELD_ENUM, 1, urgencies, 0, 0 },
	{ "service_category", "Service", KORPU_FIELD_ENUM, 1, categories, 0, 0 },
	{ "reason", "Short reason for the referral", KORPU_FIELD_STRING, 1, NULL, 0, 300 },
	{ NULL, NULL, 0, 0, NULL, 0, 0 }
};

static const struct korpu_setting settings[] = {
	{ "emergency_number", KORPU_SETTING_STRING, 0, 2, 16, NULL, "emergency telephone number (default 103)" },
	{ "emergency_procedure", KORPU_SETTING_STRING, 0, 1, 500, NULL,
	  "what a caseworker does in an emergency, shown with the refusal" },
	{ "urgent_window_hours", KORPU_SETTING_INT, 0, 1, 336, NULL,
	  "an urgent referral must be booked within this many hours (default 48)" },
	{ "slot_minutes", KORPU_SETTING_INT, 0, 5, 240, NULL, "default slot length (default 20)" },
	{ "answer_deadline_hours", KORPU_SETTING_INT, 0, 1, 720, NULL,
	  "hours a clinic has to accept or decline (default 24)" },
	{ NULL, 0, 0, 0, 0, NULL, NULL }
};

struct clinics {
	const struct korpu_host *host;
	struct korpu_plugin_ctx *ctx;
	const char *emergency_number, *emergency_procedure;
	long long urgent_window_hours, slot_minutes, answer_deadline_hours;
};

static void
clinics_read_settings(struct clinics *c)
{
	c->emergency_number = c->host->config_string(c->ctx, "emergency_number", "103");
	c->emergency_procedure = c->host->config_string(c->ctx, "emergency_procedure",
	    "Call the emergency number now and stay with the client until help arrives.");
	c->host->config_int(c->ctx, "urgent_window_hours", URGENT_WINDOW_HOURS_DEFAULT,
	    &c->urgent_window_hours);
	c->host->config_int(c->ctx, "slot_minutes", 20, &c->slot_minutes);
	c->host->config_int(c->ctx, "answer_deadline_hours", 24, &c->answer_deadline_hours);
}

static int
clinics_init(const struct korpu_host *host, struct korpu_plugin_ctx *ctx,
    void **state, char *err, size_t errlen)
{
	struct clinics *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -1;
	c->host = host;
	c->ctx = ctx;
	clinics_read_settings(c);
	*state = c;
	return 0;
}

static void
clinics_fini(void *state)
{
	free(state);
}

static void
clinics_reconfigure(void *state)
{
	clinics_read_settings(state);
}

/* An emergency is never a referral: the caseworker is told, next to the
 * urgency field, the number to call and what to do, now. */
static int
clinics_validate(void *state, const struct korpu_referral *ref, struct korpu_errors *errs)
{
	struct clinics *c = state;
	const char *urgency = c->host->referral_string(ref, "fields.urgency");
	char msg[700];

	if (urgency && strcmp(urgency, "emergency") == 0) {
		snprintf(msg, sizeof(msg), "an emergency is not referred: call %s now. %s",
		    c->emergency_number, c->emergency_procedure);
		c->host->error_add(errs, "fields.urgency", msg);
	}
	return 0;
}

/* An urgent referral must be booked within urgent_window_hours; past
 * that with no appointment, supervisors are told (korpud's job). */
static long long
clinics_escalate_after(void *state, const struct korpu_referral *ref)
{
	struct clinics *c = state;

	return urgency_escalate_after(c->host->referral_string(ref, "fields.urgency"),
	    c->urgent_window_hours);
}

KORPU_PLUGIN_EXPORT const struct korpu_plugin korpu_plugin = {
	KORPU_PLUGIN_V1,
	.name = "clinics",
	.title = "Health care and clinics",
	.version = "1.0.0",
	.booking_model = KORPU_BOOKING_SLOT,
	.fields = fields,
	.settings = settings,
	.init = clinics_init,
	.fini = clinics_fini,
	.validate = clinics_validate,
	.reconfigure = clinics_reconfigure,
	.flags = KORPU_AREA_INTERPRETER_AUTO,	/* a client who needs one gets one */
	.escalate_after = clinics_escalate_after,
};
