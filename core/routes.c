/*
 * routes.c - every route korpud serves, in one table. A path that is not
 * here is a 404; authorization (next to each route, as it arrives) is
 * decided here: each route names the roles that may call it (authz.c),
 * and a route that names none and is not PUBLIC is refused, so a route
 * cannot be added open by mistake. Literal routes come before {param} routes of the same shape.
 */
#include <event2/http.h>

#include "korpud.h"

#define JSON	ROUTE_JSON_BODY
#define PUBLIC	ROUTE_PUBLIC
#define ANY	ROLES_STAFF
#define ADMIN	ROLE_ADMIN
#define CASE	ROLE_CASEWORKER
#define PROV	ROLE_PROVIDER
#define READ	ROLE_SUPERVISOR		/* reads everything */

const struct route routes[] = {
	/* method, path, handler, flags, who may call it */
	{ EVHTTP_REQ_GET, "/health", api_health, PUBLIC, 0 },
	{ EVHTTP_REQ_GET, "/ready", api_ready, PUBLIC, 0 },
	{ EVHTTP_REQ_GET, "/metrics", api_metrics, PUBLIC, 0 },	/* metrics.allow decides */
	{ EVHTTP_REQ_GET, "/api/v1/openapi.json", api_openapi, PUBLIC, 0 },
	{ EVHTTP_REQ_POST, "/api/v1/login", api_login, PUBLIC | JSON, 0 },
	{ EVHTTP_REQ_POST, "/api/v1/logout", api_logout, 0, ANY },
	{ EVHTTP_REQ_GET, "/api/v1/me", api_me, 0, ANY },
	{ EVHTTP_REQ_GET, "/api/v1/areas", api_areas_list, 0, ANY },
	{ EVHTTP_REQ_POST, "/api/v1/areas/{name}/check", api_area_check, JSON, ANY },
	{ EVHTTP_REQ_GET, "/api/v1/regions", api_regions_list, 0, ANY },
	{ EVHTTP_REQ_GET, "/api/v1/audit", api_audit, 0, ADMIN },

	/* clients: the migration service's staff, never a provider */
	{ EVHTTP_REQ_GET, "/api/v1/clients", api_client_search, 0, CASE | READ },
	{ EVHTTP_REQ_POST, "/api/v1/clients", api_client_create, JSON, CASE },
	{ EVHTTP_REQ_GET, "/api/v1/clients/{id}", api_client_get, 0, CASE | READ },
	{ EVHTTP_REQ_PATCH, "/api/v1/clients/{id}", api_client_patch, JSON, CASE },
	{ EVHTTP_REQ_PUT, "/api/v1/clients/{id}/consent/{area}", api_consent_put, JSON, CASE },
	{ EVHTTP_REQ_POST, "/api/v1/households", api_household_create, JSON, CASE },
	{ EVHTTP_REQ_GET, "/api/v1/households/{id}", api_household_get, 0, CASE | READ },

	/* referrals: providers see their own organization's (authz_org_visible) */
	{ EVHTTP_REQ_GET, "/api/v1/referrals", api_referral_list, 0, CASE | PROV | READ },
	{ EVHTTP_REQ_POST, "/api/v1/referrals", api_referral_create, JSON, CASE },
	{ EVHTTP_REQ_POST, "/api/v1/referrals/household", api_referral_household, JSON, CASE },
	{ EVHTTP_REQ_GET, "/api/v1/referrals/{id}", api_referral_get, 0, CASE | PROV | READ },
	{ EVHTTP_REQ_POST, "/api/v1/referrals/{id}/transition", api_referral_transition, JSON,
	  CASE | PROV },

	/* appointments: caseworkers book; providers see and mark their own */
	{ EVHTTP_REQ_GET, "/api/v1/appointments", api_appointment_list, 0, CASE | PROV | READ },
	{ EVHTTP_REQ_POST, "/api/v1/appointments", api_appointment_create, JSON, CASE },
	{ EVHTTP_REQ_POST, "/api/v1/appointments/household", api_appointment_household, JSON, CASE },
	{ EVHTTP_REQ_POST, "/api/v1/appointments/course", api_appointment_course, JSON, CASE },
	{ EVHTTP_REQ_GET, "/api/v1/appointments/{id}", api_appointment_get, 0, CASE | PROV | READ },
	{ EVHTTP_REQ_POST, "/api/v1/appointments/{id}/cancel", api_appointment_cancel, JSON,
	  CASE | PROV },
	{ EVHTTP_REQ_POST, "/api/v1/appointments/{id}/reschedule", api_appointment_reschedule,
	  JSON, CASE },
	{ EVHTTP_REQ_POST, "/api/v1/appointments/{id}/status", api_appointment_status, JSON, PROV },

	/* school places (seat model) */
	{ EVHTTP_REQ_GET, "/api/v1/seats", api_seat_list, 0, CASE | PROV | READ },
	{ EVHTTP_REQ_POST, "/api/v1/seats", api_seat_take, JSON, CASE },
	{ EVHTTP_REQ_GET, "/api/v1/seats/{id}", api_seat_get, 0, CASE | PROV | READ },
	{ EVHTTP_REQ_POST, "/api/v1/seats/{id}/release", api_seat_release, JSON, CASE | PROV },

	/* waitlists: caseworkers add clients and answer offers */
	{ EVHTTP_REQ_GET, "/api/v1/waitlist", api_waitlist_list, 0, CASE | PROV | READ },
	{ EVHTTP_REQ_POST, "/api/v1/waitlist", api_waitlist_join, JSON, CASE },
	{ EVHTTP_REQ_GET, "/api/v1/waitlist/{id}", api_waitlist_get, 0, CASE | PROV | READ },
	{ EVHTTP_REQ_POST, "/api/v1/waitlist/{id}/accept", api_waitlist_accept, JSON, CASE },
	{ EVHTTP_REQ_POST, "/api/v1/waitlist/{id}/decline", api_waitlist_decline, JSON, CASE },

	/* reports */
	{ EVHTTP_REQ_GET, "/api/v1/reports/summary", api_report_summary, 0, READ },

	/* the directory */
	{ EVHTTP_REQ_GET, "/api/v1/organizations", api_org_list, 0, ANY },
	{ EVHTTP_REQ_POST, "/api/v1/organizations", api_org_create, JSON, ADMIN },
	{ EVHTTP_REQ_GET, "/api/v1/organizations/{id}", api_org_get, 0, ANY },
	{ EVHTTP_REQ_PUT, "/api/v1/organizations/{id}/agreement", api_org_agreement, JSON, ADMIN },
	{ EVHTTP_REQ_GET, "/api/v1/providers", api_provider_list, 0, ANY },
	{ EVHTTP_REQ_POST, "/api/v1/providers", api_provider_create, JSON, ADMIN },
	{ EVHTTP_REQ_GET, "/api/v1/providers/{id}", api_provider_get, 0, ANY },
	{ EVHTTP_REQ_PATCH, "/api/v1/providers/{id}", api_provider_patch, JSON, ADMIN },
	{ EVHTTP_REQ_GET, "/api/v1/providers/{id}/slots", api_provider_slots, 0, ANY },
	{ EVHTTP_REQ_GET, "/api/v1/providers/{id}/seats", api_provider_seats, 0, ANY },
	{ EVHTTP_REQ_GET, "/api/v1/providers/{id}/calendar.ics", api_provider_calendar, 0,
	  CASE | PROV | READ },
	{ EVHTTP_REQ_GET, "/api/v1/interpreters", api_interpreter_list, 0, CASE | READ | ADMIN },
	{ EVHTTP_REQ_POST, "/api/v1/interpreters", api_interpreter_create, JSON, ADMIN },
	{ EVHTTP_REQ_POST, "/api/v1/directory/import", api_directory_import,
	  JSON | ROUTE_LARGE_BODY | ROUTE_ANY_JSON, ADMIN },
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
