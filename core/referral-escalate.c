/*
 * referral-escalate.c - the job "escalate:REFERRAL": a referral its area
 * wanted seen soon (an urgent clinic referral: urgent_window_hours) has
 * no appointment yet when the time is up. Supervisors are told on the
 * notification stream (referral.escalated) and the referral's history
 * says so; its state does not change. A referral scheduled, answered or
 * closed by then needs no one: the job just goes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "korpud.h"

struct escalate {
	struct server *srv;
	char region[40];
	char member[200];
	char id[ID_MAX];
	void (*finished)(void *);
	void *arg;
};

static void
escalated(const struct tx_result *res, void *arg)
{
	struct escalate *e = arg;

	if (res->status == TX_OK)
		events_kick(e->srv);
	e->finished(e->arg);
	free(e);
}

static void
referral_read(struct doc *docs, size_t n, void *arg)
{
	struct escalate *e = arg;
	const json_t *ref;
	const char *status;
	char tag[48];
	struct tx *t;
	int k;

	(void)n;
	if (docs == NULL) {
		e->finished(e->arg);
		free(e);
		return;
	}
	ref = docs[0].doc;
	status = ref ? json_string_value(json_object_get(ref, "status")) : NULL;
	snprintf(tag, sizeof(tag), "r:%s", e->region);
	t = tx_new(tag);
	k = tx_key(t, "jobs");
	tx_zhas(t, k, e->member);	/* once, however many instances look */
	tx_zrem(t, k, e->member);
	if (status && (strcmp(status, "sent") == 0 || strcmp(status, "accepted") == 0)) {
		json_t *after = json_deep_copy(ref);
		int kr = tx_key(t, "referral:%s", e->id);
		char at[40];

		time_format_ms(wall_ms(), at, sizeof(at));
		json_array_append_new(json_object_get(after, "history"), json_pack(
		    "{s:s, s:s, s:s, s:s, s:s}", "from", status, "to", status, "at", at,
		    "actor", "korpu", "note", "escalated to supervisors: no appointment in time"));
		json_object_set_new(after, "escalated_at", json_string(at));
		tx_rev(t, kr, docs[0].rev);
		tx_doc(t, kr, after);
		tx_event_to(t, "notify", "referral.escalated", e->id,
		    json_string_value(json_object_get(ref, "area")),
		    json_string_value(json_object_get(ref, "provider_id")));
		json_decref(after);
	}
	if (tx_run(t, e->srv, escalated, e) < 0) {
		e->finished(e->arg);
		free(e);
	}
}

void
job_escalate(struct server *srv, const char *region, const char *member,
    void (*finished)(void *), void *arg)
{
	struct escalate *e = calloc(1, sizeof(*e));
	char key[160];
	const char *keys[] = { key };

	if (e == NULL || sscanf(member, "escalate:%63s", e->id) != 1 || !id_valid(e->id, 1)) {
		free(e);
		finished(arg);
		return;
	}
	e->srv = srv;
	snprintf(e->region, sizeof(e->region), "%s", region);
	snprintf(e->member, sizeof(e->member), "%s", member);
	e->finished = finished;
	e->arg = arg;
	key_region(key, sizeof(key), region, "referral", e->id);
	if (store_fetch(srv, keys, 1, referral_read, e) < 0) {
		free(e);
		finished(arg);
	}
}
