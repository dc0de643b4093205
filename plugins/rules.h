/*
 * rules.h - date and age arithmetic and the time windows the area plugins
 * share (rules.c), kept apart from the plugins so the unit tests can
 * check the rules table by table.
 */
#ifndef KORPU_PLUGIN_RULES_H
#define KORPU_PLUGIN_RULES_H

/* Full years of age on date `on`, both YYYY-MM-DD; -1 if unreadable or
 * born after `on`. A birthday on 29 February counts on 1 March in other
 * years. */
int age_on(const char *birth, const char *on);

/* Today's date (UTC) as YYYY-MM-DD. */
void today_iso(char out[11]);

/* The cut-off date (YYYY-MM-DD) of the school year a referral made on
 * `today` is for: this year's cut-off if it is still ahead (or today),
 * else next year's. */
void school_cutoff_for(const char *today, int month, int day, char out[11]);

/* The grade a child joins: the one after the last completed, but never
 * above the grade of their age (min_age is the age of grade 1 on the
 * cut-off date), and at least 1. */
int school_target_grade(int age_on_cutoff, int min_age, int last_completed);

/* Clinics: an urgent referral must be booked within this many hours
 * unless urgent_window_hours says otherwise. */
#define URGENT_WINDOW_HOURS_DEFAULT 48

/* Seconds a clinic referral of `urgency` may wait for its first
 * appointment before supervisors are told (the escalate_after hook):
 * window_hours for "urgent", 0 (never) for anything else ("routine"; an
 * "emergency" is never referred at all). */
long long urgency_escalate_after(const char *urgency, long long window_hours);

/* The rule korpud enforces with those seconds (its escalate job, due when
 * the window ends): is a referral made at `referred` and first booked at
 * `booked` (-1: not booked) escalated by `now`, all in seconds? The window
 * is the window_hours after the referral, its end excluded: booked before
 * the end is in time; still unbooked at the end, supervisors are told. */
int urgency_escalated(const char *urgency, long long window_hours, long long referred,
    long long booked, long long now);

/* Entries of a comma-separated list ("disability, single_parent"). */
int list_count(const char *list);

/* Housing: a household's points before the days it waits, from the
 * weights per person and per vulnerability (korpud adds
 * weight_days_waiting a day as time passes). */
long long housing_points(long long household_size, int vulnerabilities, long long w_size,
    long long w_vulnerability);

#endif
