/*
 * redis-scripts.c - korpu's Lua scripts. Each multi-key change is one
 * script that checks everything first and writes last, because Redis does
 * not roll back a script that fails half-way. Scripts are loaded with
 * SCRIPT LOAD at every connect and run with EVALSHA; a NOSCRIPT answer
 * (SCRIPT FLUSH, a failover to a replica that never saw the load) falls
 * back to EVAL with the full text once, which also caches it again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "korpud.h"
#include "redis-link.h"

struct script redis_scripts[SCRIPT_COUNT] = {
	[SCRIPT_SCHEMA] = { "schema", embedded_lua_schema, "" },
	[SCRIPT_SESSION_CREATE] = { "session_create", embedded_lua_session_create, "" },
	[SCRIPT_SESSION_TOUCH] = { "session_touch", embedded_lua_session_touch, "" },
	[SCRIPT_LOGIN_RESERVE] = { "login_reserve", embedded_lua_login_reserve, "" },
	[SCRIPT_LOGIN_FAILED] = { "login_failed", embedded_lua_login_failed, "" },
	[SCRIPT_LOGIN_SETTLE] = { "login_settle", embedded_lua_login_settle, "" },
	[SCRIPT_APPLY] = { "apply", embedded_lua_apply, "" },
	[SCRIPT_IDEM_BEGIN] = { "idem_begin", embedded_lua_idem_begin, "" },
	[SCRIPT_IDEM_FINISH] = { "idem_finish", embedded_lua_idem_finish, "" },
};

struct script_call {
	struct redis_link *link;
	enum script_id id;
	redis_cb cb;
	void *arg;
	int argc;			/* words after "EVALSHA sha" */
	char **argv;
	size_t *lens;
	int retried;
};

static void
script_call_free(struct script_call *sc)
{
	for (int i = 0; i < sc->argc; i++)
		free(sc->argv[i]);
	free(sc->argv);
	free(sc->lens);
	free(sc);
}

static int script_send(struct script_call *sc);

static void
script_replied(redisReply *r, void *arg)
{
	struct script_call *sc = arg;

	if (r && r->type == REDIS_REPLY_ERROR && !sc->retried &&
	    strncmp(r->str, "NOSCRIPT", 8) == 0) {
		log_info("redis: script %s was not cached; sending it again",
		    redis_scripts[sc->id].name);
		sc->retried = 1;
		if (script_send(sc) == 0)
			return;
		r = NULL;
	}
	sc->cb(r, sc->arg);
	script_call_free(sc);
}

static int
script_send(struct script_call *sc)
{
	const char **argv = calloc((size_t)sc->argc + 2, sizeof(*argv));
	size_t *lens = calloc((size_t)sc->argc + 2, sizeof(*lens));
	const struct script *s = &redis_scripts[sc->id];
	int rc = -1;

	if (argv == NULL || lens == NULL)
		goto out;
	if (sc->retried || s->sha[0] == '\0') {
		argv[0] = "EVAL";
		argv[1] = s->source;
	} else {
		argv[0] = "EVALSHA";
		argv[1] = s->sha;
	}
	lens[0] = strlen(argv[0]);
	lens[1] = strlen(argv[1]);
	for (int i = 0; i < sc->argc; i++) {
		argv[2 + i] = sc->argv[i];
		lens[2 + i] = sc->lens[i];
	}
	rc = redis_call_any(sc->link, sc->id == SCRIPT_SCHEMA, script_replied, sc,
	    2 + sc->argc, argv, lens);
out:
	free(argv);
	free(lens);
	return rc;
}

/*
 * Runs a script: argv holds numkeys, the keys, then the arguments, as
 * EVALSHA wants them after the SHA. cb as for redis_call.
 */
int
redis_script(struct redis_link *l, enum script_id id, redis_cb cb, void *arg,
    int nkeys, int argc, const char **argv, const size_t *lens)
{
	struct script_call *sc;
	char numkeys[16];

	if (argc < 0 || argc > 4096 || nkeys > argc)	/* a sanity bound, far above any change */
		return -1;
	sc = calloc(1, sizeof(*sc));
	if (sc == NULL)
		return -1;
	sc->link = l;
	sc->id = id;
	sc->cb = cb;
	sc->arg = arg;
	sc->argv = calloc((size_t)argc + 1, sizeof(char *));
	sc->lens = calloc((size_t)argc + 1, sizeof(size_t));
	if (sc->argv == NULL || sc->lens == NULL)
		goto fail;
	snprintf(numkeys, sizeof(numkeys), "%d", nkeys);
	sc->argv[0] = strdup(numkeys);
	sc->lens[0] = strlen(numkeys);
	sc->argc = 1;
	for (int i = 0; i < argc; i++) {
		size_t n = lens ? lens[i] : strlen(argv[i]);
		if ((sc->argv[sc->argc] = malloc(n + 1)) == NULL)
			goto fail;
		memcpy(sc->argv[sc->argc], argv[i], n);
		sc->argv[sc->argc][n] = '\0';
		sc->lens[sc->argc++] = n;
	}
	if (script_send(sc) < 0)
		goto fail;
	return 0;
fail:
	script_call_free(sc);
	return -1;
}

/* ---- the data schema check, last step of every connect ---- */

static void
schema_checked(redisReply *r, void *arg)
{
	struct redis_link *l = arg;
	char why[300];

	if (r == NULL)
		snprintf(why, sizeof(why), "no reply to the data schema check");
	else if (r->type == REDIS_REPLY_ERROR)
		snprintf(why, sizeof(why), "%s", r->str);
	else
		why[0] = '\0';
	/* handshake_pending was raised for this step in redis_link_schema_check */
	redis_link_handshake_done(l, why[0] == '\0', why);
}

void
redis_link_schema_check(struct redis_link *l)
{
	char version[16];
	const char *argv[] = { KEY_SCHEMA, version };

	snprintf(version, sizeof(version), "%d", KORPU_DATA_SCHEMA);
	l->handshake_pending++;
	if (redis_script(l, SCRIPT_SCHEMA, schema_checked, l, 1, 2, argv, NULL) < 0)
		redis_link_handshake_done(l, 0, "cannot send the data schema check");
}
