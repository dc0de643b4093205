/*
 * housing.c - referrals to housing providers.
 * Booking model: waitlist. Units are offered to the household with the
 * highest priority score, computed from configurable weights.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <korpu/plugin.h>

#include "rules.h"

static const char *const shelter_types[] = {
	"collective_centre", "host_family", "rented", "temporary_shelter", "homeless", "other", NULL
};

static const struct korpu_field fields[] = {
	{ "household_size", "People in the household", KORPU_FIELD_INTEGER, 1, NULL, 1, 30 },
	{ "shelter_type", "Current shelter", KORPU_FIELD_ENUM, 1, shelter_types, 0, 0 },
	{ "accessibility_needs", "Needs step-free or adapted housing", KORPU_FIELD_BOOLEAN, 0, NULL, 0, 0 },
	{ "accessibility_details", "Accessibility details", KORPU_FIELD_STRING, 0, NULL, 0, 300 },
	{ "vulnerabilities", "Vulnerabilities (comma-separated)", KORPU_FIELD_STRING, 0, NULL, 0, 300 },
	{ NULL, NULL, 0, 0, NULL, 0, 0 }
};

static const struct korpu_setting settings[] = {
	{ "weight_household_size", KORPU_SETTING_INT, 0, 0, 1000, NULL, "score points per household member (default 10)" },
	{ "weight_vulnerability", KORPU_SETTING_INT, 0, 0, 1000, NULL, "score points per vulnerability (default 25)" },
	{ "weight_days_waiting", KORPU_SETTING_INT, 0, 0, 1000, NULL, "score points per day waiting (default 1)" },
	{ "offer_hold_hours", KORPU_SETTING_INT, 0, 1, 720, NULL, "hours a household has to accept an offer (default 72)" },
	{ NULL, 0, 0, 0, 0, NULL, NULL }
};

struct housing {
	const struct korpu_host *host;
	struct korpu_plugin_ctx *ctx;
	long long w_size, w_vulnerability, w_days, offer_hold_hours;
};

static void
housing_read_settings(struct housing *h)
{
	h->host->config_int(h->ctx, "weight_household_size", 10, &h->w_size);
	h->host->config_int(h->ctx, "weight_vulnerability", 25, &h->w_vulnerability);
	h->host->config_int(h->ctx, "weight_days_waiting", 1, &h->w_days);
	h->host->config_int(h->ctx, "offer_hold_hours", 72, &h->offer_hold_hours);
}

static int
housing_init(const struct korpu_host *host, struct korpu_plugin_ctx *ctx,
    void **state, char *err, size_t errlen)
{
	struct housing *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return -1;
	h->host = host;
	h->ctx = ctx;
	housing_read_settings(h);
	*state = h;
	return 0;
}

static void
housing_fini(void *state)
{
	free(state);
}

static void
housing_reconfigure(void *state)
{
	housing_read_settings(state);
}

/*
 * The priority score: weight_household_size a person, weight_vulnerability
 * a vulnerability recorded on the referral, and weight_days_waiting a day
 * waited (korpud adds those as the days pass). The caseworker sees the
 * sum and how it was reached.
 */
static int
housing_waitlist_priority(void *state, const struct korpu_referral *ref,
    struct korpu_priority *out)
{
	struct housing *h = state;
	long long size = 0;
	int vuln = list_count(h->host->referral_string(ref, "fields.vulnerabilities"));

	h->host->referral_integer(ref, "fields.household_size", &size);
	out->points = housing_points(size, vuln, h->w_size, h->w_vulnerability);
	out->points_per_day = h->w_days;
	snprintf(out->explain, sizeof(out->explain),
	    "household of %lld: %lld; %d vulnerabilit%s: %lld; %lld a day waited",
	    size, h->w_size * size, vuln, vuln == 1 ? "y" : "ies", h->w_vulnerability * vuln,
	    h->w_days);
	return 0;
}

/* A household gets offer_hold_hours to answer an offered unit (moving
 * house takes longer to decide than taking an appointment slot). */
static long long
housing_offer_hold(void *state)
{
	struct housing *h = state;

	return h->offer_hold_hours * 3600;
}

KORPU_PLUGIN_EXPORT const struct korpu_plugin korpu_plugin = {
	KORPU_PLUGIN_V1,
	.name = "housing",
	.title = "Housing",
	.version = "1.0.0",
	.booking_model = KORPU_BOOKING_WAITLIST,
	.fields = fields,
	.settings = settings,
	.init = housing_init,
	.fini = housing_fini,
	.reconfigure = housing_reconfigure,
	.waitlist_priority = housing_waitlist_priority,
	.offer_hold = housing_offer_hold,
};
