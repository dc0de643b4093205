/* fuzz-router.c - request paths against the real route table (http-router.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "korpud.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The handlers are never called here. */
void api_health(struct request *r) { abort(); }
void api_ready(struct request *r) { abort(); }
void api_metrics(struct request *r) { abort(); }
void api_openapi(struct request *r) { abort(); }
void api_login(struct request *r) { abort(); }
void api_logout(struct request *r) { abort(); }
void api_me(struct request *r) { abort(); }
void api_areas_list(struct request *r) { abort(); }
void api_area_check(struct request *r) { abort(); }
void api_regions_list(struct request *r) { abort(); }
void api_audit(struct request *r) { abort(); }
void api_client_search(struct request *r) { abort(); }
void api_client_create(struct request *r) { abort(); }
void api_client_get(struct request *r) { abort(); }
void api_client_patch(struct request *r) { abort(); }
void api_consent_put(struct request *r) { abort(); }
void api_household_create(struct request *r) { abort(); }
void api_household_get(struct request *r) { abort(); }
void api_referral_list(struct request *r) { abort(); }
void api_referral_create(struct request *r) { abort(); }
void api_referral_household(struct request *r) { abort(); }
void api_referral_get(struct request *r) { abort(); }
void api_referral_transition(struct request *r) { abort(); }
void api_appointment_list(struct request *r) { abort(); }
void api_appointment_create(struct request *r) { abort(); }
void api_appointment_household(struct request *r) { abort(); }
void api_appointment_course(struct request *r) { abort(); }
void api_appointment_get(struct request *r) { abort(); }
void api_appointment_cancel(struct request *r) { abort(); }
void api_appointment_reschedule(struct request *r) { abort(); }
void api_appointment_status(struct request *r) { abort(); }
void api_seat_list(struct request *r) { abort(); }
void api_seat_take(struct request *r) { abort(); }
void api_seat_get(struct request *r) { abort(); }
void api_seat_release(struct request *r) { abort(); }
void api_waitlist_list(struct request *r) { abort(); }
void api_waitlist_join(struct request *r) { abort(); }
void api_waitlist_get(struct request *r) { abort(); }
void api_waitlist_accept(struct request *r) { abort(); }
void api_waitlist_decline(struct request *r) { abort(); }
void api_report_summary(struct request *r) { abort(); }
void api_org_list(struct request *r) { abort(); }
void api_org_create(struct request *r) { abort(); }
void api_org_get(struct request *r) { abort(); }
void api_org_agreement(struct request *r) { abort(); }
void api_provider_list(struct request *r) { abort(); }
void api_provider_create(struct request *r) { abort(); }
void api_provider_get(struct request *r) { abort(); }
void api_provider_patch(struct request *r) { abort(); }
void api_provider_slots(struct request *r) { abort(); }
void api_provider_seats(struct request *r) { abort(); }
void api_provider_calendar(struct request *r) { abort(); }
void api_interpreter_list(struct request *r) { abort(); }
void api_interpreter_create(struct request *r) { abort(); }
void api_directory_import(struct request *r) { abort(); }

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int methods[] = { EVHTTP_REQ_GET, EVHTTP_REQ_POST, EVHTTP_REQ_HEAD,
	    EVHTTP_REQ_PUT, EVHTTP_REQ_DELETE, EVHTTP_REQ_PATCH };
	struct route_match m;
	char *path, allow[64];
	int method;

	if (size < 1)
		return 0;
	method = methods[data[0] % 6];
	path = strndup((const char *)data + 1, size - 1);
	if (path == NULL)
		return 0;
	switch (router_match(routes, routes_count, method, path, &m)) {
	case ROUTE_FOUND:
		for (size_t i = 0; i < m.n_params; i++)
			if (strchr(m.params[i].value, '/') || m.params[i].value[0] == '\0')
				abort();
		break;
	case ROUTE_BAD_METHOD:
		router_allow_header(m.allowed, allow, sizeof(allow));
		break;
	case ROUTE_NOT_FOUND:
		break;
	}
	free(path);
	return 0;
}
