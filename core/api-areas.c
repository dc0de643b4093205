/*
 * api-areas.c - the service areas, as their plugins declare them:
 * GET /api/v1/areas for the web client's forms, and
 * POST /api/v1/areas/{name}/check to check a referral's fields without
 * making one (the form's live validation); and GET /api/v1/regions, the
 * configured regions a client or provider can belong to.
 */
#include <string.h>

#include "korpud.h"
#include "plugin-host.h"

static json_t *
field_json(const struct korpu_field *f)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "name", f->name, "label", f->label,
	    "type", plugin_field_type_name(f->type), "required", f->required);

	if (o == NULL)
		return NULL;
	if (f->type == KORPU_FIELD_ENUM) {
		json_t *e = json_array();
		for (const char *const *v = f->enum_values; *v; v++)
			json_array_append_new(e, json_string(*v));
		json_object_set_new(o, "enum", e);
	}
	if (f->type == KORPU_FIELD_INTEGER && f->min < f->max) {
		json_object_set_new(o, "min", json_integer(f->min));
		json_object_set_new(o, "max", json_integer(f->max));
	}
	return o;
}

json_t *
api_area_json(const struct korpu_plugin *d)
{
	json_t *fields = json_array();

	for (const struct korpu_field *f = d->fields; f && f->name; f++)
		json_array_append_new(fields, field_json(f));
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", d->name, "title", d->title,
	    "plugin_version", d->version,
	    "booking_model", plugin_booking_model_name(d->booking_model), "fields", fields);
}

void
api_areas_list(struct request *r)
{
	json_t *list = json_array();

	for (size_t i = 0; i < r->srv->plugins.n; i++)
		if (r->srv->plugins.v[i].started)
			json_array_append_new(list, api_area_json(r->srv->plugins.v[i].desc));
	reply_json(r, 200, list);
}

void
api_regions_list(struct request *r)
{
	const struct strlist *regions = &r->srv->conf->regions;
	json_t *list = json_array();

	for (size_t i = 0; i < regions->n; i++)
		json_array_append_new(list, json_string(regions->v[i]));
	reply_json(r, 200, list);
}

void
api_area_check(struct request *r)
{
	const struct plugin *p = plugins_find(&r->srv->plugins, request_param(r, "name"));
	struct errlist errs = { 0 };
	const char *key;
	json_t *v;

	if (p == NULL || !p->started) {
		reply_problem(r, 404, "no such service area");
		return;
	}
	json_object_foreach(r->body, key, v) {
		if (strcmp(key, "fields") != 0)
			errlist_add(&errs, key, "is not accepted here (send {\"fields\":{...}})");
	}
	fields_check(p->desc->fields, json_object_get(r->body, "fields"), &errs);
	if (errs.n == 0) {
		int (*validate)(void *, const struct korpu_referral *, struct korpu_errors *) =
		    PLUGIN_HOOK(p->desc, validate);
		struct korpu_referral ref = { r->body };
		if (validate && validate(p->state, &ref, (struct korpu_errors *)&errs) < 0) {
			errlist_free(&errs);
			reply_problem(r, 500, "the area's plugin failed to check the fields");
			return;
		}
	}
	if (errs.n) {
		reply_problem_errors(r, 422, "the fields are not valid for this area", &errs);
		errlist_free(&errs);
		return;
	}
	reply_json(r, 200, json_pack("{s:b}", "valid", 1));
}
