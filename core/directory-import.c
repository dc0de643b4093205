/*
 * directory-import.c - an Open Referral HSDS dataset into the directory:
 * hsds-map.c turns it into korpu organizations and providers, and this
 * file stores them, one row after the other, through the same atomic
 * changes the API makes.
 *
 * Rows are matched by their HSDS ids (korpu:{dir}:hsds:org:ID and
 * korpu:{r:REGION}:hsds:provider:ID), so importing a dataset again
 * changes only what changed in it, and importing it twice changes
 * nothing. An organization already in korpu under the same name (entered
 * by hand) is adopted rather than duplicated; a second organization of
 * the dataset with that name is skipped (names are unique in korpu). A
 * provider keeps its area, organization and region: a dataset that moves
 * it to another is reported, not followed. The report counts created,
 * updated and unchanged rows and lists every row skipped, with why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "korpud.h"
#include "hsds-map.h"
#include "text-fold.h"

/* What of a provider the dataset owns; the rest (id, created_*, and the
 * capacity, which HSDS does not say: set when the provider is created,
 * then an administrator's) is korpu's. */
static const char *const provider_members[] = {
	"name", "address", "languages", "timezone", "slot_minutes", "hours", "closed", NULL
};
static const char *const org_members[] = { "name", "kind", "region", NULL };

struct import {
	struct server *srv;
	char actor[64];
	import_done_fn done;
	void *arg;
	json_t *mapped;			/* hsds_map's output */
	json_t *report;
	json_t *orgs;			/* HSDS organization id -> korpu id */
	json_t *claimed;		/* korpu organization id -> HSDS id */
	size_t i;			/* the row in hand */
	int providers;			/* 0: organizations, 1: providers */
	json_t *row;			/* korpu document being written */
	char id[ID_MAX];
	char hash[65];			/* of the organization's folded name */
	int updating;			/* the row exists in korpu: an update */
	int name_key;			/* tx_key of a renamed organization's new
					 * orgname key, or 0 */
	size_t region_i;		/* the next configured region to look in
					 * for a provider new to its own */
	char elsewhere[48];		/* the region being looked in */
	int stepping;			/* in step(): row_done and finish defer */
	int again;			/* a row was done within step() */
	int finished;			/* finish() ran within step() */
};

static void next_row(struct import *im);
static void step(struct import *im);

static void
count(struct import *im, const char *table, const char *what)
{
	json_t *t = json_object_get(im->report, table);
	json_t *n = json_object_get(t, what);

	json_object_set_new(t, what, json_integer(json_integer_value(n) + 1));
}

static void
skip(struct import *im, const char *table, const char *id, const char *reason)
{
	json_array_append_new(json_object_get(im->report, "skipped"),
	    json_pack("{s:s, s:s, s:s}", "table", table, "id", id, "reason", reason));
}

static const json_t *
row_in_hand(struct import *im)
{
	return json_array_get(json_object_get(im->mapped, im->providers ? "providers" :
	    "organizations"), im->i);
}

static const char *
source_id(struct import *im)
{
	return json_string_value(json_object_get(row_in_hand(im), "source_id"));
}

static void
import_free(struct import *im)
{
	json_decref(im->mapped);
	json_decref(im->report);
	json_decref(im->orgs);
	json_decref(im->claimed);
	json_decref(im->row);
	free(im);
}

static void
finish(struct import *im, int status, const char *error)
{
	im->done(status == 200 ? im->report : NULL, status, error, im->arg);
	if (im->stepping)
		im->finished = 1;	/* step() frees it */
	else
		import_free(im);
}

static void
row_done(struct import *im)
{
	json_decref(im->row);
	im->row = NULL;
	im->updating = 0;
	im->name_key = 0;
	im->region_i = 0;
	im->i++;
	if (im->stepping)
		im->again = 1;		/* step() goes on with the next row */
	else
		step(im);
}

/*
 * Goes through the rows until one waits for Redis (its callback calls
 * row_done later) or the import finishes. A loop, not recursion: rows
 * done at once (skipped without asking Redis: say the providers of an
 * organization that was skipped) can be tens of thousands in a row.
 *
 * Mapping a big dataset, or skipping many rows, takes a while within one
 * turn of the event loop, whose clock libevent caches at the turn's
 * start: a command's timeout (redis-link.c) would count from then, and
 * the next command look overdue at once. So read the clock afresh.
 */
static void
step(struct import *im)
{
	im->stepping = 1;
	do {
		im->again = 0;
		event_base_update_cache_time(im->srv->base);
		next_row(im);
	} while (im->again && !im->finished);
	if (im->finished) {
		import_free(im);
		return;
	}
	im->stepping = 0;
}

/* Does doc already say what the dataset says? */
static int
same(const json_t *doc, const json_t *want, const char *const *members)
{
	for (; *members; members++)
		if (!json_equal(json_object_get(doc, *members), json_object_get(want, *members)))
			return 0;
	return 1;
}

static void
copy_members(json_t *doc, const json_t *from, const char *const *members)
{
	for (; *members; members++)
		json_object_set(doc, *members, json_object_get(from, *members));
}

static int
unavailable(struct import *im, const void *reply)
{
	if (reply == NULL) {
		finish(im, 503, "redis: the import could not finish; run it again (it picks up "
		    "where it stopped)");
		return 1;
	}
	return 0;
}

/* ---- organizations ---- */

/* The organization in hand is korpu organization im->id. */
static void
org_mapped(struct import *im)
{
	json_object_set_new(im->orgs, source_id(im), json_string(im->id));
	json_object_set_new(im->claimed, im->id, json_string(source_id(im)));
}

static void
org_written(const struct tx_result *res, void *arg)
{
	struct import *im = arg;

	if (unavailable(im, res->status == TX_UNAVAILABLE ? NULL : res))
		return;
	if (res->status == TX_OK) {
		org_mapped(im);
		count(im, "organizations", im->updating ? "updated" : "created");
	} else if (res->status == TX_CONFLICT && im->name_key && res->key == im->name_key) {
		/* Renamed to the name of another organization: importing
		 * again would not help. */
		char reason[200];
		snprintf(reason, sizeof(reason), "its new name is that of another korpu "
		    "organization (%s)", res->current);
		skip(im, "organizations", source_id(im), reason);
	} else {
		skip(im, "organizations", source_id(im), res->status == TX_CONFLICT ?
		    "changed in korpu while it was imported; import again" :
		    "Redis refused the change");
	}
	row_done(im);
}

static void
link_recorded(const struct tx_result *res, void *arg)
{
	(void)res;
	(void)arg;
}

/* An organization korpu has (linked to this HSDS id, or of the same name). */
static void
org_existing(struct doc *docs, size_t n, void *arg)
{
	struct import *im = arg;
	const json_t *want = row_in_hand(im);
	json_t *doc;
	struct tx *t;
	int k;

	(void)n;
	if (unavailable(im, docs))
		return;
	if (docs[0].doc == NULL) {
		skip(im, "organizations", source_id(im), "its korpu organization is gone");
		row_done(im);
		return;
	}
	t = tx_new("dir");
	k = tx_key(t, "org:%s", im->id);
	tx_rev(t, k, docs[0].rev);
	{
		int kh = tx_key(t, "hsds:org:%s", source_id(im));
		tx_set(t, kh, im->id);
	}
	if (same(docs[0].doc, want, org_members)) {
		org_mapped(im);
		count(im, "organizations", "unchanged");
		/* Still record the link: adopting one by its name is ours to
		 * keep, so the next import finds it by its HSDS id. */
		if (tx_run(t, im->srv, link_recorded, NULL) < 0) {
			finish(im, 503, "redis: the import could not finish");
			return;
		}
		row_done(im);
		return;
	}
	doc = json_deep_copy(docs[0].doc);
	copy_members(doc, want, org_members);
	if (!json_equal(json_object_get(docs[0].doc, "name"), json_object_get(want, "name"))) {
		char old_hash[65];
		char *folded = text_fold(json_string_value(json_object_get(docs[0].doc, "name")),
		    strlen(json_string_value(json_object_get(docs[0].doc, "name")) ?: ""));
		int kn = tx_key(t, "orgname:%s", im->hash);
		if (folded && sha256_hex(folded, strlen(folded), old_hash) == 0 &&
		    strcmp(old_hash, im->hash) != 0) {
			tx_del(t, tx_key(t, "orgname:%s", old_hash));
			tx_absent(t, kn);
			tx_set(t, kn, im->id);
			im->name_key = kn;
		}
		free(folded);
	}
	tx_doc(t, k, doc);
	json_decref(doc);
	im->updating = 1;
	if (tx_run(t, im->srv, org_written, im) < 0)
		finish(im, 503, "redis: the import could not finish");
}

static void
org_fetch(struct import *im)
{
	char key[128];
	const char *keys[] = { key };
	const char *other = json_string_value(json_object_get(im->claimed, im->id));

	/* Two organizations of the dataset with one (folded) name, or linked
	 * to one korpu organization: the first keeps it. Letting both write
	 * it would change it twice in every import. */
	if (other != NULL) {
		char reason[300];
		snprintf(reason, sizeof(reason), "organization %s of this dataset has the same "
		    "name: korpu organization names are unique", other);
		skip(im, "organizations", source_id(im), reason);
		row_done(im);
		return;
	}
	snprintf(key, sizeof(key), "korpu:{dir}:org:%s", im->id);
	if (store_fetch(im->srv, keys, 1, org_existing, im) < 0)
		finish(im, 503, "redis: the import could not finish");
}

static void
org_create(struct import *im)
{
	const json_t *want = row_in_hand(im);
	char at[40];
	struct tx *t;
	int k, kn, kh;

	if (id_new(im->id, sizeof(im->id), NULL) < 0) {
		finish(im, 500, "out of randomness");
		return;
	}
	time_format_ms(wall_ms(), at, sizeof(at));
	im->row = json_pack("{s:s, s:O, s:O, s:O, s:n, s:n, s:s, s:s, s:{s:s, s:s}}",
	    "id", im->id, "name", json_object_get(want, "name"),
	    "kind", json_object_get(want, "kind"), "region", json_object_get(want, "region"),
	    "directory_name", "agreement", "created_at", at, "created_by", im->actor,
	    "source", "dataset", "hsds", "id", source_id(im));
	t = tx_new("dir");
	k = tx_key(t, "org:%s", im->id);
	kn = tx_key(t, "orgname:%s", im->hash);
	kh = tx_key(t, "hsds:org:%s", source_id(im));
	tx_absent(t, k);
	tx_absent(t, kn);
	tx_absent(t, kh);
	tx_doc(t, k, im->row);
	tx_set(t, kn, im->id);
	tx_set(t, kh, im->id);
	tx_zadd(t, tx_key(t, "orgs"), 0, im->id);
	if (tx_run(t, im->srv, org_written, im) < 0)
		finish(im, 503, "redis: the import could not finish");
}

static void
org_by_name(redisReply *reply, void *arg)
{
	struct import *im = arg;

	if (unavailable(im, reply))
		return;
	if (reply->type == REDIS_REPLY_STRING && reply->len < sizeof(im->id)) {
		memcpy(im->id, reply->str, reply->len + 1);	/* adopt it */
		org_fetch(im);
	} else {
		org_create(im);
	}
}

static void
org_by_source(redisReply *reply, void *arg)
{
	struct import *im = arg;
	const char *name = json_string_value(json_object_get(row_in_hand(im), "name"));
	char *folded;
	char key[128];
	const char *argv[] = { "GET", key };

	if (unavailable(im, reply))
		return;
	folded = text_fold(name ? name : "", name ? strlen(name) : 0);
	if (folded == NULL || sha256_hex(folded, strlen(folded), im->hash) < 0) {
		free(folded);
		skip(im, "organizations", source_id(im), "its name is not valid text");
		row_done(im);
		return;
	}
	free(folded);
	if (reply->type == REDIS_REPLY_STRING && reply->len < sizeof(im->id)) {
		memcpy(im->id, reply->str, reply->len + 1);
		org_fetch(im);
		return;
	}
	snprintf(key, sizeof(key), "korpu:{dir}:orgname:%s", im->hash);
	if (redis_call(im->srv->redis, org_by_name, im, 2, argv, NULL) < 0)
		finish(im, 503, "redis: the import could not finish");
}

/* ---- providers ---- */

static void
provider_written(const struct tx_result *res, void *arg)
{
	struct import *im = arg;

	if (unavailable(im, res->status == TX_UNAVAILABLE ? NULL : res))
		return;
	if (res->status == TX_OK) {
		count(im, "providers", im->updating ? "updated" : "created");
		/* New hours may free places, as a PATCH's may. */
		if (im->updating)
			waitlist_offer(im->srv, im->id);
	} else
		skip(im, "service_at_location", source_id(im), res->status == TX_CONFLICT ?
		    "changed in korpu while it was imported; import again" :
		    "Redis refused the change");
	row_done(im);
}

static void
provider_existing(struct doc *docs, size_t n, void *arg)
{
	struct import *im = arg;
	const json_t *want = im->row;
	char tag[48];
	json_t *doc;
	struct tx *t;
	int k;

	(void)n;
	if (unavailable(im, docs))
		return;
	if (docs[0].doc == NULL) {
		skip(im, "service_at_location", source_id(im), "its korpu provider is gone");
		row_done(im);
		return;
	}
	if (!json_equal(json_object_get(docs[0].doc, "area"), json_object_get(want, "area")) ||
	    !json_equal(json_object_get(docs[0].doc, "organization"),
	    json_object_get(want, "organization"))) {
		skip(im, "service_at_location", source_id(im), "its service area or organization "
		    "changed; korpu keeps a provider's area and organization, so add it anew");
		row_done(im);
		return;
	}
	if (same(docs[0].doc, want, provider_members)) {
		count(im, "providers", "unchanged");
		row_done(im);
		return;
	}
	doc = json_deep_copy(docs[0].doc);
	copy_members(doc, want, provider_members);
	snprintf(tag, sizeof(tag), "r:%s", json_string_value(json_object_get(want, "region")));
	t = tx_new(tag);
	k = tx_key(t, "provider:%s", im->id);
	tx_rev(t, k, docs[0].rev);
	tx_doc(t, k, doc);
	json_decref(doc);
	im->updating = 1;
	if (tx_run(t, im->srv, provider_written, im) < 0)
		finish(im, 503, "redis: the import could not finish");
}

static void
provider_create(struct import *im)
{
	const char *region = json_string_value(json_object_get(im->row, "region"));
	char tag[48], at[40];
	struct tx *t;
	int kh;

	if (id_new(im->id, sizeof(im->id), region) < 0) {
		finish(im, 500, "out of randomness");
		return;
	}
	time_format_ms(wall_ms(), at, sizeof(at));
	json_object_set_new(im->row, "id", json_string(im->id));
	json_object_set_new(im->row, "created_at", json_string(at));
	json_object_set_new(im->row, "created_by", json_string(im->actor));
	json_object_set_new(im->row, "source", json_pack("{s:s, s:s}", "dataset", "hsds",
	    "id", source_id(im)));
	snprintf(tag, sizeof(tag), "r:%s", region);
	t = tx_new(tag);
	provider_tx_create(t, im->row);
	kh = tx_key(t, "hsds:provider:%s", source_id(im));
	tx_absent(t, kh);
	tx_set(t, kh, im->id);
	if (tx_run(t, im->srv, provider_written, im) < 0)
		finish(im, 503, "redis: the import could not finish");
}

static void provider_elsewhere(redisReply *reply, void *arg);

/*
 * A provider new to its region may be one korpu has in another: the
 * dataset moved its location. korpu keeps a provider's region (its id
 * names it, and its referrals and appointments live there), as it keeps
 * its area; so look in the other regions before creating a second one.
 */
static void
provider_look_elsewhere(struct import *im)
{
	const struct strlist *regions = &im->srv->conf->regions;
	const char *region = json_string_value(json_object_get(im->row, "region"));
	char key[200];
	const char *argv[] = { "GET", key };

	while (im->region_i < regions->n && strcmp(regions->v[im->region_i], region) == 0)
		im->region_i++;
	if (im->region_i == regions->n) {
		provider_create(im);
		return;
	}
	snprintf(im->elsewhere, sizeof(im->elsewhere), "%s", regions->v[im->region_i]);
	snprintf(key, sizeof(key), "korpu:{r:%s}:hsds:provider:%s", im->elsewhere,
	    source_id(im));
	if (redis_call(im->srv->redis, provider_elsewhere, im, 2, argv, NULL) < 0)
		finish(im, 503, "redis: the import could not finish");
}

static void
provider_elsewhere(redisReply *reply, void *arg)
{
	struct import *im = arg;

	if (unavailable(im, reply))
		return;
	if (reply->type == REDIS_REPLY_STRING) {
		char reason[300];
		snprintf(reason, sizeof(reason), "its region changed: korpu has it in %s (%.*s) "
		    "and keeps a provider's region, so add it anew",
		    im->elsewhere, (int)(reply->len < 64 ? reply->len : 64),
		    reply->str);
		skip(im, "service_at_location", source_id(im), reason);
		row_done(im);
		return;
	}
	im->region_i++;
	provider_look_elsewhere(im);
}

static void
provider_by_source(redisReply *reply, void *arg)
{
	struct import *im = arg;
	const char *region = json_string_value(json_object_get(im->row, "region"));

	if (unavailable(im, reply))
		return;
	if (reply->type == REDIS_REPLY_STRING && reply->len < sizeof(im->id)) {
		char key[160];
		const char *keys[] = { key };
		memcpy(im->id, reply->str, reply->len + 1);
		key_region(key, sizeof(key), region, "provider", im->id);
		if (store_fetch(im->srv, keys, 1, provider_existing, im) < 0)
			finish(im, 503, "redis: the import could not finish");
		return;
	}
	im->region_i = 0;
	provider_look_elsewhere(im);
}

/* ---- the rows, one after the other ---- */

static void
next_row(struct import *im)
{
	json_t *rows = json_object_get(im->mapped, im->providers ? "providers" : "organizations");
	const json_t *row = json_array_get(rows, im->i);
	char key[200];
	const char *argv[] = { "GET", key };

	if (row == NULL && !im->providers) {
		im->providers = 1;
		im->i = 0;
		next_row(im);
		return;
	}
	if (row == NULL) {
		finish(im, 200, NULL);
		return;
	}
	if (!im->providers) {
		snprintf(key, sizeof(key), "korpu:{dir}:hsds:org:%s", source_id(im));
		if (redis_call(im->srv->redis, org_by_source, im, 2, argv, NULL) < 0)
			finish(im, 503, "redis: the import could not finish");
		return;
	}
	{
		const char *org_src = json_string_value(json_object_get(row, "organization_source_id"));
		const json_t *org = json_object_get(im->orgs, org_src ? org_src : "");
		struct errlist errs = { 0 };

		if (org == NULL) {
			skip(im, "service_at_location", source_id(im), "its organization was skipped");
			row_done(im);
			return;
		}
		im->row = json_deep_copy(row);
		json_object_del(im->row, "source_id");
		json_object_del(im->row, "organization_source_id");
		json_object_set(im->row, "organization", (json_t *)org);
		/* The same checks as POST /api/v1/providers. */
		if (provider_check(im->row, 0, im->srv->conf, &im->srv->plugins, &errs)) {
			char reason[300];
			snprintf(reason, sizeof(reason), "%s %s", errs.v[0].where, errs.v[0].message);
			errlist_free(&errs);
			skip(im, "service_at_location", source_id(im), reason);
			row_done(im);
			return;
		}
		snprintf(key, sizeof(key), "korpu:{r:%s}:hsds:provider:%s",
		    json_string_value(json_object_get(im->row, "region")), source_id(im));
		if (redis_call(im->srv->redis, provider_by_source, im, 2, argv, NULL) < 0)
			finish(im, 503, "redis: the import could not finish");
	}
}

/*
 * Imports dataset; done(report, 200, NULL) or done(NULL, status, why)
 * once, later. The report is the caller's to json_incref if kept.
 */
int
directory_import(struct server *srv, const json_t *dataset, const char *default_area,
    const char *default_region, const char *actor, import_done_fn done, void *arg)
{
	const char **areas = calloc(srv->plugins.n + 1, sizeof(char *));
	int *capacity = calloc(srv->plugins.n + 1, sizeof(int));
	struct hsds_options opt = { 0 };
	struct import *im;
	char err[200] = "", today[40];
	json_t *skipped, *warnings;
	int rc;

	im = calloc(1, sizeof(*im));
	if (im == NULL || areas == NULL || capacity == NULL) {
		free(im);
		free(areas);
		free(capacity);
		return -1;
	}
	/* A session area's providers hold a group, as when created by hand. */
	for (size_t i = 0; i < srv->plugins.n; i++) {
		capacity[opt.n_areas] = srv->plugins.v[i].desc->booking_model ==
		    KORPU_BOOKING_SESSION ? PROVIDER_SESSION_CAPACITY : 1;
		areas[opt.n_areas++] = srv->plugins.v[i].name;
	}
	time_format_ms(wall_ms(), today, sizeof(today));
	today[10] = '\0';
	opt.areas = areas;
	opt.regions = (const char *const *)srv->conf->regions.v;
	opt.n_regions = srv->conf->regions.n;
	opt.default_area = default_area;
	opt.default_region = default_region;
	opt.timezone = PROVIDER_TIMEZONE_DEFAULT;
	opt.slot_minutes = 30;
	opt.capacity = 1;
	opt.area_capacity = capacity;
	opt.today = today;
	rc = hsds_map(dataset, &opt, &im->mapped, err, sizeof(err));
	free(areas);
	free(capacity);
	im->srv = srv;
	snprintf(im->actor, sizeof(im->actor), "%s", actor);
	im->done = done;
	im->arg = arg;
	if (rc < 0) {
		finish(im, 422, err[0] ? err : "not an Open Referral HSDS dataset");
		return 0;
	}
	skipped = json_object_get(im->mapped, "skipped");
	warnings = json_object_get(im->mapped, "warnings");
	im->report = json_pack("{s:{s:i, s:i, s:i}, s:{s:i, s:i, s:i}, s:o, s:o}",
	    "organizations", "created", 0, "updated", 0, "unchanged", 0,
	    "providers", "created", 0, "updated", 0, "unchanged", 0,
	    "skipped", skipped ? json_incref(skipped) : json_array(),
	    "warnings", warnings ? json_incref(warnings) : json_array());
	im->orgs = json_object();
	im->claimed = json_object();
	if (im->report == NULL || im->orgs == NULL || im->claimed == NULL) {
		finish(im, 500, "out of memory");
		return 0;
	}
	step(im);
	return 0;
}
