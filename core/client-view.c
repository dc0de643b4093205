/*
 * client-view.c - what of a client's record each reader gets. The
 * migration service's own staff see the whole record; a provider's staff
 * see what their service needs to receive the client, per area, and
 * nothing else (no registration number, no consent record, no other
 * area's data). Allow-lists, not deny-lists: a member added to the
 * record later stays hidden from providers until someone adds it here.
 */
#include <string.h>

#include "korpud.h"

static const char *const provider_base[] = {
	"id", "given_name", "family_name", "birth_date", "sex", "languages",
	"needs_interpreter", "household_id", "region", NULL
};

static const struct {
	const char *area;
	const char *const extra[4];
} provider_extra[] = {
	{ "clinics", { "phone", "vulnerabilities", NULL } },
	{ "housing", { "phone", "vulnerabilities", NULL } },
	{ "employment", { "phone", NULL } },
	{ "integration", { "phone", NULL } },
	{ "schools", { NULL } },
};

static void
copy_members(json_t *out, const json_t *client, const char *const *names)
{
	for (; *names; names++) {
		json_t *v = json_object_get(client, *names);
		if (v)
			json_object_set(out, *names, v);
	}
}

/* A new object: the part of client the caller may see in area's context. */
json_t *
client_view(const json_t *client, int org_scoped, const char *area)
{
	json_t *out;

	if (!org_scoped)
		return json_deep_copy(client);
	out = json_object();
	copy_members(out, client, provider_base);
	for (size_t i = 0; area && i < sizeof(provider_extra) / sizeof(provider_extra[0]); i++)
		if (strcmp(provider_extra[i].area, area) == 0)
			copy_members(out, client, provider_extra[i].extra);
	return out;
}
