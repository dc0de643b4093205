/*
 * ics.c - appointments as RFC 5545 iCalendar, written with libical.
 *
 * Times are written in the provider's zone (DTSTART;TZID=Asia/Baku:...)
 * with its VTIMEZONE. libical's built-in zones are named
 * "/freeassociation.sourceforge.net/Asia/Baku", which several calendar
 * clients reject, so the VTIMEZONE is copied with its TZID set to the
 * plain IANA name. UIDs are the appointment's id (stable across moves);
 * SEQUENCE counts the changes, and a cancelled appointment stays in the
 * feed as STATUS:CANCELLED so calendars drop it. Events carry no client
 * names: a calendar file travels further than korpu's access rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "config.h"
#include "korpud.h"

static const char *
str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* The zone's VTIMEZONE, named by its plain IANA name. */
static icalcomponent *
vtimezone(icaltimezone *tz, const char *name)
{
	icalcomponent *c = icalcomponent_new_clone(icaltimezone_get_component(tz));
	icalproperty *p;

	if (c == NULL)
		return NULL;
	p = icalcomponent_get_first_property(c, ICAL_TZID_PROPERTY);
	if (p)
		icalproperty_set_tzid(p, name);
	else
		icalcomponent_add_property(c, icalproperty_new_tzid(name));
	/* X-LIC-LOCATION repeats the name; drop libical's private marker. */
	while ((p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY)) != NULL) {
		icalcomponent_remove_property(c, p);
		icalproperty_free(p);
	}
	return c;
}

/* A local time in zone: DTSTART/DTEND with TZID=name. */
static icalproperty *
zoned(icalproperty *(*make)(struct icaltimetype), int64_t ms, icaltimezone *tz,
    const char *name)
{
	struct icaltimetype t = icaltime_from_timet_with_zone((time_t)(ms / 1000), 0, tz);
	icalproperty *p;

	t.zone = NULL;			/* written as a floating time plus TZID */
	p = make(t);
	icalproperty_add_parameter(p, icalparameter_new_tzid(name));
	return p;
}

static icalcomponent *
vevent(const json_t *a, const json_t *provider, icaltimezone *tz, const char *zone)
{
	icalcomponent *ev = icalcomponent_new(ICAL_VEVENT_COMPONENT);
	int64_t s = 0, e = 0;
	char uid[ID_MAX + 16], summary[200], desc[300];
	const char *status = str(a, "status");

	time_parse(str(a, "start"), &s);
	time_parse(str(a, "end"), &e);
	snprintf(uid, sizeof(uid), "%s@korpu", str(a, "id"));
	snprintf(summary, sizeof(summary), "%s: %s appointment", str(provider, "name"),
	    str(a, "area"));
	snprintf(desc, sizeof(desc), "korpu appointment %s%s%s%s%s", str(a, "id"),
	    str(a, "referral_id") ? ", referral " : "", str(a, "referral_id") ?: "",
	    str(a, "interpreter_language") ? ", interpreter: " : "",
	    str(a, "interpreter_language") ?: "");
	icalcomponent_add_property(ev, icalproperty_new_uid(uid));
	icalcomponent_add_property(ev, icalproperty_new_dtstamp(
	    icaltime_from_timet_with_zone(time(NULL), 0, icaltimezone_get_utc_timezone())));
	icalcomponent_add_property(ev, zoned(icalproperty_new_dtstart, s, tz, zone));
	icalcomponent_add_property(ev, zoned(icalproperty_new_dtend, e, tz, zone));
	icalcomponent_add_property(ev, icalproperty_new_summary(summary));
	icalcomponent_add_property(ev, icalproperty_new_description(desc));
	if (str(provider, "address") && str(provider, "address")[0])
		icalcomponent_add_property(ev, icalproperty_new_location(str(provider, "address")));
	icalcomponent_add_property(ev, icalproperty_new_sequence(
	    (int)json_integer_value(json_object_get(a, "sequence"))));
	icalcomponent_add_property(ev, icalproperty_new_status(
	    status && strcmp(status, "cancelled") == 0 ? ICAL_STATUS_CANCELLED :
	    ICAL_STATUS_CONFIRMED));
	return ev;
}

/*
 * The calendar of appointments (a JSON array) at provider, as iCalendar
 * text (caller frees), or NULL.
 */
char *
ics_calendar(const json_t *provider, const json_t *appointments)
{
	const char *zone = str(provider, "timezone");
	icaltimezone *tz = zone ? icaltimezone_get_builtin_timezone(zone) : NULL;
	icalcomponent *cal, *vtz;
	char *text;
	size_t i;
	json_t *a;

	if (tz == NULL || (vtz = vtimezone(tz, zone)) == NULL)
		return NULL;
	cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
	icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
	icalcomponent_add_property(cal, icalproperty_new_prodid("-//korpu//korpud " PACKAGE_VERSION "//EN"));
	icalcomponent_add_property(cal, icalproperty_new_calscale("GREGORIAN"));
	icalcomponent_add_property(cal, icalproperty_new_method(ICAL_METHOD_PUBLISH));
	icalcomponent_add_component(cal, vtz);
	json_array_foreach(appointments, i, a)
		icalcomponent_add_component(cal, vevent(a, provider, tz, zone));
	text = icalcomponent_as_ical_string_r(cal);
	icalcomponent_free(cal);
	return text;
}
