/* fuzz-fields.c - a referral's "fields" object against an area's field
 * table of every type (fields-check.c). Input: JSON. */
#include <stdint.h>
#include <stdlib.h>

#include "korpud.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const colours[] = { "red", "green", NULL };
static const struct korpu_field table[] = {
	{ "s", "S", KORPU_FIELD_STRING, 1, NULL, 0, 16 },
	{ "i", "I", KORPU_FIELD_INTEGER, 0, NULL, -5, 5 },
	{ "b", "B", KORPU_FIELD_BOOLEAN, 0, NULL, 0, 0 },
	{ "d", "D", KORPU_FIELD_DATE, 0, NULL, 0, 0 },
	{ "e", "E", KORPU_FIELD_ENUM, 1, colours, 0, 0 },
	{ NULL, NULL, 0, 0, NULL, 0, 0 }
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)data, size, 0, &jerr);
	struct errlist errs = { 0 };

	if (doc == NULL)
		return 0;
	if (fields_check(table, doc, &errs) == 0 && errs.n != 0)
		abort();
	errlist_free(&errs);
	json_decref(doc);
	return 0;
}
