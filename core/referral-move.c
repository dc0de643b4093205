/*
 * referral-move.c - one move of a referral's state, as a change: the new
 * document with the move appended to its history, and the writes that
 * keep the indexes true (answer deadline, the provider's load) and tell
 * partners (the area's event). Used by the transition endpoint and by
 * expiry alike, so a move is recorded the same way whoever makes it.
 */
#include <stdio.h>
#include <string.h>

#include "korpud.h"

/* A new document: before, moved to `to` by actor (with note or NULL). */
json_t *
referral_moved(const json_t *before, const char *to, const char *actor, const char *note)
{
	json_t *after = json_deep_copy(before);
	json_t *history = json_object_get(after, "history");
	char at[40];

	time_format_ms(wall_ms(), at, sizeof(at));
	if (!json_is_array(history)) {
		history = json_array();
		json_object_set_new(after, "history", history);
	}
	json_array_append_new(history, json_pack("{s:O, s:s, s:s, s:s, s:s?}",
	    "from", json_object_get(before, "status"), "to", to, "at", at, "actor", actor,
	    "note", note));
	json_object_set_new(after, "status", json_string(to));
	json_object_set_new(after, "updated_at", json_string(at));
	return after;
}

/* The writes of a move from before (at revision rev) to after, into a
 * transaction on the referral's region tag. */
void
referral_move_tx(struct tx *t, const json_t *before, long long rev, const json_t *after)
{
	const char *id = json_string_value(json_object_get(before, "id"));
	const char *from = json_string_value(json_object_get(before, "status"));
	const char *to = json_string_value(json_object_get(after, "status"));
	const char *area = json_string_value(json_object_get(before, "area"));
	const char *provider = json_string_value(json_object_get(before, "provider_id"));
	char type[48];
	int k = tx_key(t, "referral:%s", id);

	tx_rev(t, k, rev);
	tx_doc(t, k, after);
	if (strcmp(from, "sent") == 0)
		tx_zrem(t, tx_key(t, "deadlines"), id);
	if (referral_state_open(from) && !referral_state_open(to))
		tx_zincrby(t, tx_key(t, "load:%s", area), -1, provider);
	stats_referral_moved(t, before, to);
	snprintf(type, sizeof(type), "referral.%s", to);
	tx_event(t, type, id, area, provider);
}
