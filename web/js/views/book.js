// Pick a time from a week of free slots, then book it (or move a booked
// appointment there). Slot times carry the provider's own offset, so the
// date and the clock time are read straight off them: what the client
// sees is the provider's local time, wherever the caseworker sits.
import { h, add, name } from '../dom.js';
import { t, fmtDate, fmtTime } from '../i18n.js';
import { get, post, qs } from '../api.js';
import { field, submitting, messageOf } from '../form.js';
import { areaTitle, loadAreas } from '../areas.js';

function isoDate(d) {
  return d.toISOString().slice(0, 10);
}

function addDays(date, n) {
  const d = new Date(date + 'T12:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return isoDate(d);
}

function today(timeZone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date());
}

async function target(ctx) {
  if (ctx.params.referral) {
    const referral = await get('/referrals/' + encodeURIComponent(ctx.params.referral));
    return { referral, providerId: referral.provider_id, clientId: referral.client_id };
  }
  const appointment = await get('/appointments/' + encodeURIComponent(ctx.params.appointment));
  return { appointment, providerId: appointment.provider_id, clientId: appointment.client_id };
}

export default async function book(view, ctx) {
  const tg = await target(ctx);
  const [provider, client, areas] = await Promise.all([
    get('/providers/' + encodeURIComponent(tg.providerId)), get('/clients/' + encodeURIComponent(tg.clientId)),
    loadAreas()]);
  // A school (seat model): the time picked is the intake appointment of a
  // school place, whose grade korpu works out from the referral.
  // A scheduled schools referral has its place: the time picked is then
  // just the intake (a place offered from the waitlist comes without one).
  const seat = !tg.appointment && tg.referral.status === 'accepted' &&
    areas.find(a => a.name === provider.area)?.booking_model === 'seat';
  const years = [...new Set((provider.seats || []).map(s => s.school_year))].sort();
  const year = field({ name: 'school_year', label: t('book.school_year'), kind: 'select', required: true,
    value: years[0], options: years.map(y => ({ value: y, label: y })), hint: t('book.grade_hint') });
  const tz = provider.timezone;
  const week = /^\d{4}-\d{2}-\d{2}$/.test(ctx.query.get('week') || '') ? ctx.query.get('week') : today(tz);
  const slots = await get(`/providers/${encodeURIComponent(provider.id)}/slots` + qs({ from: week, to: addDays(week, 6) }));
  const here = location.hash.slice(1).split('?')[0];
  const interp = field({ name: 'interpreter_language', label: t('book.interpreter'), kind: 'select',
    value: '', options: [{ value: '', label: t('book.no_interpreter') },
      ...(client.languages || []).map(l => ({ value: l, label: l }))] });
  const confirm = h('div', { class: 'confirm', 'aria-live': 'polite' });

  const days = [];
  for (let i = 0; i < 7; i++) {
    const date = addDays(week, i);
    const mine = slots.filter(s => s.start.slice(0, 10) === date);
    const dayName = fmtDate(date, { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' });
    days.push(h('section', { class: 'day', 'aria-label': dayName },
      h('h3', {}, dayName),
      mine.length ? h('ul', { class: 'slots' }, mine.map(s => h('li', {}, h('button', {
        type: 'button', class: 'slot',
        'aria-label': t('book.slot_label', { day: dayName, time: s.start.slice(11, 16), n: s.remaining }),
        onclick: () => choose(s, dayName),
      }, s.start.slice(11, 16))))) : h('p', { class: 'muted' }, t('book.no_slots_day'))));
  }

  function choose(slot, dayName) {
    const form = h('form', { class: 'card' },
      h('p', {}, t('book.confirm_text', { day: dayName, time: slot.start.slice(11, 16), provider: provider.name })),
      seat ? year : tg.appointment ? null : interp,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' },
        tg.appointment ? t('book.confirm_move') : seat ? t('book.confirm_seat') : t('book.confirm'))));
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      let waiting = false;
      const done = await submitting(form, async () => {
        if (tg.appointment)
          return post(`/appointments/${encodeURIComponent(tg.appointment.id)}/reschedule`, { start: slot.start });
        if (seat) {
          const res = await post('/seats', { provider_id: provider.id, client_id: client.id,
            school_year: year.control.value, referral_id: tg.referral.id, intake_start: slot.start });
          waiting = res.status === 'waiting';	// 202: no place left, on the school's waitlist
          return res;
        }
        const body = { provider_id: provider.id, client_id: client.id, start: slot.start, referral_id: tg.referral.id };
        if (interp.control.value) body.interpreter_language = interp.control.value;
        return post('/appointments', body);
      });
      if (done) ctx.go(`/clients/${encodeURIComponent(client.id)}?notice=` +
        (waiting ? 'book.seat_waiting' : seat ? 'book.seat_taken' : 'book.booked'));
    });
    confirm.replaceChildren(form);
    form.querySelector('button[type=submit]').focus();
  }

  const courses = tg.appointment ? [] : provider.courses || [];
  const title = tg.appointment ? t('book.title_move') : seat ? t('book.title_seat') : t('book.title');
  add(view, h('h1', {}, title),
    h('p', {}, name(client), ' · ', areaTitle(provider.area), ' · ', provider.name, ' · ',
      h('span', { class: 'muted' }, t('book.times_in', { tz }))),
    tg.appointment ? h('p', {}, t('book.current', { when: fmtTime(tg.appointment.start, tz) })) : null,
    courses.length ? courseList(courses, tg, provider, client, ctx) : null,
    h('nav', { class: 'week-nav', 'aria-label': t('book.weeks') },
      h('a', { class: 'button small', href: `#${here}?week=${addDays(week, -7)}` }, t('book.prev')),
      h('span', {}, t('book.week_of', { date: fmtDate(week) })),
      h('a', { class: 'button small', href: `#${here}?week=${addDays(week, 7)}` }, t('book.next'))),
    h('div', { class: 'week' }, days),
    slots.length ? null : waitlistOffer(tg, provider, client, ctx),
    confirm);
}

// A session provider's courses: a client joins every session of one at
// once (the area's rule), or none.
function courseList(courses, tg, provider, client, ctx) {
  return h('section', { class: 'card', 'aria-labelledby': 'sec-courses' },
    h('h2', { id: 'sec-courses' }, t('book.courses')),
    h('ul', { class: 'items' }, courses.map(c => {
      const out = h('li', { class: 'item' }, h('strong', { dir: 'auto' }, c.title), ' · ',
        t('book.course_first', { when: fmtDate(c.first.slice(0, 10), { dateStyle: 'full', timeZone: 'UTC' }),
          time: c.first.slice(11, 16) }));
      const button = h('button', { type: 'button', class: 'primary small',
        'aria-label': t('book.enrol_in', { course: c.title }), onclick: async () => {
          button.disabled = true;
          try {
            await post('/appointments/course', { provider_id: provider.id, client_id: client.id,
              course_id: c.id, referral_id: tg.referral.id });
            ctx.go(`/clients/${encodeURIComponent(client.id)}?notice=book.enrolled`);
          } catch (err) {
            button.disabled = false;
            out.append(h('p', { class: 'error', role: 'alert' }, messageOf(err), ' ', err.message));
          }
        } }, t('book.enrol'));
      out.append(' ', button);
      return out;
    })));
}

function waitlistOffer(tg, provider, client, ctx) {
  if (!tg.referral) return h('p', {}, t('book.no_slots_week'));
  const out = h('div', { class: 'card' }, h('p', {}, t('book.no_slots_week')));
  const button = h('button', { type: 'button', onclick: async () => {
    button.disabled = true;
    try {
      await post('/waitlist', { provider_id: provider.id, client_id: client.id, referral_id: tg.referral.id,
        priority: tg.referral.priority === 'urgent' ? 10 : 0 });
      ctx.go(`/clients/${encodeURIComponent(client.id)}?notice=waitlist.joined`);
    } catch (err) {
      button.disabled = false;
      out.append(h('p', { class: 'error', role: 'alert' }, messageOf(err), ' ', err.message));
    }
  } }, t('referral.waitlist'));
  out.append(button);
  return out;
}
