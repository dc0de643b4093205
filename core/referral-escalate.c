/*
 * referral-escalate.c - the job "escalate:REFERRAL": a referral its area
 * wanted seen soon (an urgent clinic referral: urgent_window_hours) has
 * no appointment yet when the time is up. Supervisors are told on the
 * notification stream (referral.escalated) and the referral's history
 * says so; its state does not change. A referral scheduled, answered or
 * closed by then needs no one: the job just goes.
 */
#include <stdio.h>
#include <string.h>

#include "korpud.h"

static void
escalate_decide(struct job *j, struct tx *t, const struct doc *d)
{
	const json_t *ref = d->doc;
	const char *status = ref ? json_string_value(json_object_get(ref, "status")) : NULL;
	json_t *after;
	char at[40];
	int kr;

	if (status == NULL || (strcmp(status, "sent") != 0 && strcmp(status, "accepted") != 0))
		return;			/* booked, answered or closed: nobody to tell */
	after = json_deep_copy(ref);
	kr = tx_key(t, "referral:%s", j->id);
	time_format_ms(wall_ms(), at, sizeof(at));
	json_array_append_new(json_object_get(after, "history"), json_pack(
	    "{s:s, s:s, s:s, s:s, s:s}", "from", status, "to", status, "at", at,
	    "actor", "korpu", "note", "escalated to supervisors: no appointment in time"));
	json_object_set_new(after, "escalated_at", json_string(at));
	tx_rev(t, kr, d->rev);
	tx_doc(t, kr, after);
	tx_event_to(t, "notify", "referral.escalated", j->id,
	    json_string_value(json_object_get(ref, "area")),
	    json_string_value(json_object_get(ref, "provider_id")));
	json_decref(after);
}

/* "escalate:REFERRAL" is due. */
void
job_escalate(struct server *srv, const char *region, const char *member,
    void (*finished)(void *), void *arg)
{
	char id[ID_MAX];

	if (sscanf(member, "escalate:%63s", id) != 1) {
		finished(arg);
		return;
	}
	job_with_doc(srv, region, member, "referral", id, 0, escalate_decide, finished, arg);
}
