/*
 * referral-states.c - the life of a referral (API.md, Referrals), in one
 * table: every legal move, and who may make it. Anything not here is a
 * 409. The provider's organization answers (accept, decline, complete);
 * the migration service's caseworkers may cancel (any of them: caseloads
 * are shared, and a colleague covers for one who is away); only korpud
 * expires a referral whose answer deadline passed.
 *
 *   sent -> accepted | declined | cancelled | expired
 *   accepted -> scheduled | cancelled
 *   scheduled -> completed | no_show | cancelled
 */
#include <string.h>

#include "korpud.h"

#define BY_PROVIDER	REFERRAL_BY_PROVIDER	/* staff of its provider organization */
#define BY_CASEWORKER	REFERRAL_BY_CASEWORKER
#define BY_SERVER	REFERRAL_BY_SERVER	/* korpud itself */

static const struct {
	const char *from, *to;
	unsigned by;
	int note_required;		/* a decline says why */
} moves[] = {
	{ "sent", "accepted", BY_PROVIDER, 0 },
	{ "sent", "declined", BY_PROVIDER, 1 },
	{ "sent", "cancelled", BY_CASEWORKER, 0 },
	{ "sent", "expired", BY_SERVER, 0 },
	{ "accepted", "scheduled", BY_PROVIDER | BY_CASEWORKER, 0 },
	{ "accepted", "cancelled", BY_CASEWORKER, 0 },
	{ "scheduled", "completed", BY_PROVIDER, 0 },
	{ "scheduled", "no_show", BY_PROVIDER, 0 },
	{ "scheduled", "cancelled", BY_CASEWORKER, 0 },
};

static const char *const states[] = {
	"sent", "accepted", "declined", "scheduled", "completed", "no_show", "cancelled",
	"expired", NULL
};

const char *const *
referral_states(void)
{
	return states;
}

int
referral_state_known(const char *s)
{
	for (const char *const *p = states; *p; p++)
		if (strcmp(*p, s) == 0)
			return 1;
	return 0;
}

/* Is the referral still waiting for someone (counted in its provider's
 * load, which default routing balances)? */
int
referral_state_open(const char *s)
{
	return strcmp(s, "sent") == 0 || strcmp(s, "accepted") == 0 || strcmp(s, "scheduled") == 0;
}

/*
 * May actor move a referral from -> to? actor: REFERRAL_BY_* bits the
 * caller holds for this referral. Returns MOVE_OK, MOVE_ILLEGAL (no such
 * move: 409), MOVE_FORBIDDEN (a move, but not the caller's: 403) or
 * MOVE_NEEDS_NOTE (422).
 */
enum move_check
referral_move_check(const char *from, const char *to, unsigned actor, int has_note)
{
	for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
		if (strcmp(moves[i].from, from) || strcmp(moves[i].to, to))
			continue;
		/* Only korpud expires: for anyone else it is no move at all. */
		if (moves[i].by == BY_SERVER && !(actor & BY_SERVER))
			return MOVE_ILLEGAL;
		if ((moves[i].by & actor) == 0)
			return MOVE_FORBIDDEN;
		if (moves[i].note_required && !has_note)
			return MOVE_NEEDS_NOTE;
		return MOVE_OK;
	}
	return MOVE_ILLEGAL;
}
