/*
 * jobs.c - time-based work (appointment reminders, waitlist offers that
 * lapse), driven by a libevent timer over a sorted set of due jobs per
 * region: korpu:{r:REGION}:jobs, scored by when the job is due (ms),
 * member "KIND:ARGS".
 *
 * Jobs live in Redis, so they survive restarts; every korpud instance
 * looks, and a job's work is one transaction that also removes the job
 * and first checks it is still there (ZHAS), so a job is done exactly
 * once however many instances race for it. A job whose work no longer
 * applies (the appointment was cancelled) is just removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "korpud.h"

#define JOBS_TICK_MS 500
#define JOBS_BATCH "50"

static const struct {
	const char *kind;
	job_fn run;
} kinds[] = {
	{ "remind", job_remind },
	{ "offer", job_offer_lapsed },
	{ "seatoffer", job_seat_offer_lapsed },
	{ "escalate", job_escalate },
};

struct jobs {
	struct server *srv;
	struct event *timer;
	size_t region;
	size_t pending;			/* jobs of this batch still working */
	int busy, stopped;
};

static void jobs_region(struct jobs *j);

static void
jobs_end(struct jobs *j)
{
	j->busy = 0;
	if (j->stopped)
		free(j);
}

/* A job of the batch is over (done, skipped or failed: it stays due). */
static void
job_finished(void *arg)
{
	struct jobs *j = arg;

	if (--j->pending > 0)
		return;
	if (j->stopped) {
		jobs_end(j);
		return;
	}
	j->region++;
	jobs_region(j);
}

static void
due_read(redisReply *reply, void *arg)
{
	struct jobs *j = arg;
	const char *region;

	if (reply == NULL || reply->type != REDIS_REPLY_ARRAY || j->stopped ||
	    j->region >= j->srv->conf->regions.n) {
		jobs_end(j);
		return;
	}
	region = j->srv->conf->regions.v[j->region];
	j->pending = 1;			/* held until every job is started */
	for (size_t i = 0; i < reply->elements; i++) {
		const char *m = reply->element[i]->str;
		const char *colon = strchr(m, ':');
		size_t k;

		for (k = 0; colon && k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (strlen(kinds[k].kind) == (size_t)(colon - m) &&
			    strncmp(kinds[k].kind, m, (size_t)(colon - m)) == 0)
				break;
		if (colon == NULL || k == sizeof(kinds) / sizeof(kinds[0])) {
			log_warn("jobs: %s: a job of no known kind; left alone", region);
			continue;
		}
		j->pending++;
		kinds[k].run(j->srv, region, m, job_finished, j);
	}
	job_finished(j);
}

static void
jobs_region(struct jobs *j)
{
	char key[96], now[24];

	if (j->stopped || j->region >= j->srv->conf->regions.n) {
		jobs_end(j);
		return;
	}
	snprintf(key, sizeof(key), "korpu:{r:%s}:jobs", j->srv->conf->regions.v[j->region]);
	snprintf(now, sizeof(now), "%lld", (long long)wall_ms());
	{
		const char *argv[] = { "ZRANGEBYSCORE", key, "-inf", now, "LIMIT", "0", JOBS_BATCH };
		if (redis_call(j->srv->redis, due_read, j, 7, argv, NULL) < 0)
			jobs_end(j);
	}
}

static void
tick(evutil_socket_t fd, short what, void *arg)
{
	struct jobs *j = arg;

	(void)fd;
	(void)what;
	if (j->busy || !redis_link_ready(j->srv->redis))
		return;
	j->busy = 1;
	j->region = 0;
	jobs_region(j);
}

struct jobs *
jobs_start(struct server *srv)
{
	struct jobs *j = calloc(1, sizeof(*j));
	struct timeval tv = { 0, JOBS_TICK_MS * 1000 };

	if (j == NULL)
		return NULL;
	j->srv = srv;
	j->timer = event_new(srv->base, -1, EV_PERSIST, tick, j);
	if (j->timer == NULL || event_add(j->timer, &tv) < 0) {
		if (j->timer)
			event_free(j->timer);
		free(j);
		return NULL;
	}
	return j;
}

void
jobs_free(struct jobs *j)
{
	if (j == NULL)
		return;
	event_free(j->timer);
	j->timer = NULL;
	j->stopped = 1;
	if (!j->busy)
		free(j);
}

/* ---- reminders ---- */

/* The jobs of an appointment's reminders: one per lead time still ahead. */
void
reminders_add(struct tx *t, const struct conf *c, const char *appt_id, int64_t start_ms)
{
	int k = tx_key(t, "jobs");
	int64_t now = wall_ms();

	for (size_t i = 0; i < c->appointments.n_reminders; i++) {
		int64_t due = start_ms - c->appointments.reminder_ms[i];
		char member[160];
		if (due <= now)
			continue;
		snprintf(member, sizeof(member), "remind:%s:%lld:%lld", appt_id, (long long)start_ms,
		    c->appointments.reminder_ms[i]);
		tx_zadd(t, k, (double)due, member);
	}
}

/* ... and their removal (a cancel, or before a reschedule adds new ones). */
void
reminders_remove(struct tx *t, const struct conf *c, const char *appt_id, int64_t start_ms)
{
	int k = tx_key(t, "jobs");

	for (size_t i = 0; i < c->appointments.n_reminders; i++) {
		char member[160];
		snprintf(member, sizeof(member), "remind:%s:%lld:%lld", appt_id, (long long)start_ms,
		    c->appointments.reminder_ms[i]);
		tx_zrem(t, k, member);
	}
}

/* ---- a job's one step ---- */

static void
job_done(const struct tx_result *res, void *arg)
{
	struct job *j = arg;

	if (res->status == TX_OK) {
		events_kick(j->srv);
		if (j->then)
			j->then(j->srv, j->then_id);
	}
	j->finished(j->arg);
	free(j);
}

static void
job_doc_read(struct doc *docs, size_t n, void *arg)
{
	struct job *j = arg;
	char tag[48];
	struct tx *t;
	int k;

	(void)n;
	if (docs == NULL) {		/* Redis did not answer: it stays due */
		j->finished(j->arg);
		free(j);
		return;
	}
	snprintf(tag, sizeof(tag), "r:%s", j->region);
	t = tx_new(tag);
	k = tx_key(t, "jobs");
	tx_zhas(t, k, j->member);	/* not done yet by another instance */
	tx_zrem(t, k, j->member);
	j->decide(j, t, &docs[0]);
	if (tx_run(t, j->srv, job_done, j) < 0) {
		j->finished(j->arg);
		free(j);
	}
}

/*
 * A due job's work, done once: reads the document KIND:ID of the region,
 * then decide() adds its writes (if the job still applies) to the step
 * that also removes the job, checking first that it is still there. n is
 * the number the job carries (a start time). Calls finished(arg) when
 * over, whatever the outcome.
 */
void
job_with_doc(struct server *srv, const char *region, const char *member, const char *kind,
    const char *id, int64_t n, job_decide_fn decide, void (*finished)(void *), void *arg)
{
	struct job *j = calloc(1, sizeof(*j));
	char key[160];
	const char *keys[] = { key };

	if (j == NULL || !id_valid(id, 1)) {
		free(j);
		finished(arg);
		return;
	}
	j->srv = srv;
	snprintf(j->region, sizeof(j->region), "%s", region);
	snprintf(j->member, sizeof(j->member), "%s", member);
	snprintf(j->id, sizeof(j->id), "%s", id);
	j->n = n;
	j->decide = decide;
	j->finished = finished;
	j->arg = arg;
	key_region(key, sizeof(key), region, kind, id);
	if (store_fetch(srv, keys, 1, job_doc_read, j) < 0) {
		free(j);
		finished(arg);
	}
}

/* ---- the reminder job ---- */

/* Sent only for a booked appointment that still starts when the job
 * says: a moved one has jobs of its own. */
static void
remind_decide(struct job *j, struct tx *t, const struct doc *d)
{
	const json_t *a = d->doc;
	int64_t start = 0;

	if (a && json_string_value(json_object_get(a, "start")) &&
	    time_parse(json_string_value(json_object_get(a, "start")), &start) == 0 &&
	    start == j->n &&
	    strcmp(json_string_value(json_object_get(a, "status")) ?: "", "booked") == 0)
		tx_event_to(t, "notify", "appointment.reminder", j->id,
		    json_string_value(json_object_get(a, "area")),
		    json_string_value(json_object_get(a, "provider_id")));
}

/* "remind:APPT:START_MS:LEAD_MS" is due. */
void
job_remind(struct server *srv, const char *region, const char *member,
    void (*finished)(void *), void *arg)
{
	char id[ID_MAX];
	long long start = 0, lead = 0;

	if (sscanf(member, "remind:%63[^:]:%lld:%lld", id, &start, &lead) != 3) {
		finished(arg);
		return;
	}
	job_with_doc(srv, region, member, "appt", id, start, remind_decide, finished, arg);
}
