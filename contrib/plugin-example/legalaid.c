/*
 * legalaid.c - an out-of-tree korpu plugin: referrals to legal aid for
 * asylum and residence matters. Booking model: slot (one client per
 * lawyer's appointment).
 *
 * The one rule: a referral is a queue, and a client whose legal deadline
 * (an appeal, a hearing, a filing) is fewer than min_days_before_deadline
 * days away cannot wait in it. Such a referral is refused, and the
 * caseworker is told to call the duty lawyer at duty_phone now.
 *
 * Built against the installed <korpu/plugin.h> only (see Makefile and
 * docs/plugin-guide.md); it links against nothing in korpud and exports
 * exactly one symbol, the descriptor korpu_plugin.
 */
#define _POSIX_C_SOURCE 200809L	/* localtime_r, tzset */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <korpu/plugin.h>

/* ---- what the area asks for: the referral form (GET /api/v1/areas) ---- */

static const char *const matters[] = {
	"asylum", "residence", "family_reunification", "labour", "other", NULL
};

/* korpud checks every referral's "fields" against this table (names,
 * types, enum values, real dates, lengths) before validate runs. */
static const struct korpu_field fields[] = {
	{ "matter", "Legal matter", KORPU_FIELD_ENUM, 1, matters, 0, 0 },
	{ "deadline", "The client's legal deadline (appeal, hearing, filing), if any",
	  KORPU_FIELD_DATE, 0, NULL, 0, 0 },
	{ "documents_available", "The client has the decision and their papers",
	  KORPU_FIELD_BOOLEAN, 1, NULL, 0, 0 },
	{ "summary", "Short summary of the matter", KORPU_FIELD_STRING, 1, NULL, 0, 300 },
	{ NULL, NULL, 0, 0, NULL, 0, 0 }
};

/* ---- what an administrator sets: plugins.d/legalaid.conf ---- */

/* korpud (and `korpud -t`) checks the file against this table before
 * init: unknown keys, types and ranges are errors naming file and line.
 * answer_deadline_hours is korpud's own key of every area file and need
 * not be declared here. */
static const struct korpu_setting settings[] = {
	{ "duty_phone", KORPU_SETTING_STRING, 1, 3, 32, NULL,
	  "the duty lawyer's telephone number, given when a deadline is too close to refer" },
	{ "min_days_before_deadline", KORPU_SETTING_INT, 0, 0, 90, NULL,
	  "a referral whose deadline is fewer days away is refused (default 3)" },
	{ NULL, 0, 0, 0, 0, NULL, NULL }
};

#define MIN_DAYS_DEFAULT 3

struct legalaid {
	const struct korpu_host *host;
	struct korpu_plugin_ctx *ctx;
	/* Owned by korpud: valid until fini or the next reconfigure, when
	 * it is read again. */
	const char *duty_phone;
	long long min_days;
};

static void
legalaid_read_settings(struct legalaid *la)
{
	/* duty_phone is required, so korpud refuses to start without it;
	 * the default only guards against a misdeclared table. */
	la->duty_phone = la->host->config_string(la->ctx, "duty_phone", "the duty lawyer");
	if (la->host->config_int(la->ctx, "min_days_before_deadline", MIN_DAYS_DEFAULT,
	    &la->min_days) < 0)
		la->min_days = MIN_DAYS_DEFAULT;
}

static int
legalaid_init(const struct korpu_host *host, struct korpu_plugin_ctx *ctx,
    void **state, char *err, size_t errlen)
{
	struct legalaid *la;

	/* This plugin calls only ABI 1.0's host functions. KORPU_PLUGIN_V1
	 * stamps the minor of the header it is built against, so korpuds of
	 * an older minor refuse it; set .abi_minor = 0 instead to load into
	 * any korpud of major 1. A plugin that calls a function added in
	 * minor N while stamped older checks host->abi_minor >= N first. */
	if ((la = calloc(1, sizeof(*la))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	la->host = host;
	la->ctx = ctx;
	legalaid_read_settings(la);
	/* Load the time zone now: the first localtime_r may read
	 * /etc/localtime, and validate must never touch the disk. */
	tzset();
	*state = la;
	host->log(ctx, KORPU_LOG_INFO, "referrals need %lld day(s) before a deadline; "
	    "duty lawyer %s", la->min_days, la->duty_phone);
	return 0;
}

static void
legalaid_fini(void *state)
{
	free(state);
}

static void
legalaid_reconfigure(void *state)
{
	struct legalaid *la = state;

	legalaid_read_settings(la);
	la->host->log(la->ctx, KORPU_LOG_INFO, "reconfigured: %lld day(s) before a deadline; "
	    "duty lawyer %s", la->min_days, la->duty_phone);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): exact, and no mktime, DST or time zone involved. */
static long long
days_from_civil(long long y, unsigned m, unsigned d)
{
	long long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

/* "YYYY-MM-DD" (korpud has already checked it is a real date). */
static int
parse_date(const char *s, long long *days)
{
	int y, m, d;
	char extra;

	if (s == NULL || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3)
		return -1;
	*days = days_from_civil(y, (unsigned)m, (unsigned)d);
	return 0;
}

/* Today in korpud's local time: the office's date, not UTC's. */
static long long
today_days(void)
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	return days_from_civil(tm.tm_year + 1900LL, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
}

/*
 * Runs for POST /api/v1/referrals (with the client) and for
 * POST /api/v1/areas/legalaid/check (fields only), after the field table
 * was checked. On the event loop: it only computes, never waits.
 */
static int
legalaid_validate(void *state, const struct korpu_referral *ref, struct korpu_errors *errs)
{
	struct legalaid *la = state;
	const char *deadline = la->host->referral_string(ref, "fields.deadline");
	long long due, left;
	char msg[300];

	if (deadline == NULL)		/* optional: no deadline, nothing to check */
		return 0;
	if (parse_date(deadline, &due) < 0)
		return -1;		/* cannot happen after korpud's check */
	left = due - today_days();
	if (left >= la->min_days)
		return 0;
	if (left < 0)
		snprintf(msg, sizeof(msg), "the deadline %s has passed: do not refer, "
		    "call the duty lawyer at %s now", deadline, la->duty_phone);
	else
		snprintf(msg, sizeof(msg), "the deadline %s is %lld day(s) away, fewer than the "
		    "%lld a referral needs: do not refer, call the duty lawyer at %s now",
		    deadline, left, la->min_days, la->duty_phone);
	la->host->error_add(errs, "fields.deadline", msg);
	/* No personal data in logs: the numbers only. */
	la->host->log(la->ctx, KORPU_LOG_DEBUG, "deadline %lld day(s) away: sent to the duty lawyer",
	    left);
	return 0;
}

/* The only exported symbol (KORPU_PLUGIN_EXPORT; everything else is
 * hidden by -fvisibility=hidden from pkg-config --cflags korpu-plugin). */
KORPU_PLUGIN_EXPORT const struct korpu_plugin korpu_plugin = {
	KORPU_PLUGIN_V1,
	.name = "legalaid",
	.title = "Legal aid: asylum and residence",
	.version = "1.0.0",
	.booking_model = KORPU_BOOKING_SLOT,
	.fields = fields,
	.settings = settings,
	.init = legalaid_init,
	.fini = legalaid_fini,
	.validate = legalaid_validate,
	.reconfigure = legalaid_reconfigure,
};
