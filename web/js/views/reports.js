// The supervisor's summary: referrals by status, days to the first
// appointment and attendance per area, drawn as plain SVG bars, with the
// numbers in a table beside them (the table is what a screen reader reads).
import { h, add, svg } from '../dom.js';
import { t, fmtDate, fmtNumber } from '../i18n.js';
import { get, qs } from '../api.js';
import { field, submitting } from '../form.js';
import { areaTitle, statusLabel, loadAreas } from '../areas.js';

const STATUSES = ['sent', 'accepted', 'scheduled', 'completed', 'declined', 'no_show', 'cancelled', 'expired'];

function daysAgo(n) {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() - n);
  return d.toISOString().slice(0, 10);
}

export default async function reports(view, ctx) {
  await loadAreas();
  const from = ctx.query.get('from') || daysAgo(29);
  const to = ctx.query.get('to') || daysAgo(0);
  const fromF = field({ name: 'from', label: t('report.from'), kind: 'date', value: from, required: true });
  const toF = field({ name: 'to', label: t('report.to'), kind: 'date', value: to, required: true });
  const form = h('form', { class: 'toolbar' }, fromF, toF, h('button', { type: 'submit' }, t('report.show')),
    h('button', { type: 'button', onclick: () => downloadCsv(form, from, to) }, t('report.csv')));
  form.addEventListener('submit', ev => {
    ev.preventDefault();
    ctx.go('/reports' + qs({ from: fromF.control.value, to: toF.control.value }));
  });
  add(view, h('h1', {}, t('report.title')), form);
  const report = await submitting(form, () => get('/reports/summary' + qs({ from, to })));
  if (!report) return;
  add(view, h('p', { class: 'muted' }, t('report.period', { from: fmtDate(report.from), to: fmtDate(report.to) })),
    statusChart(report.areas), medianChart(report.areas), attendanceChart(report.areas));
}

async function downloadCsv(form, from, to) {
  const text = await submitting(form, () => get('/reports/summary' + qs({ from, to }), { accept: 'text/csv' }));
  if (text === undefined) return;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const a = h('a', { href: url, download: `korpu-summary-${from}-${to}.csv`, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// One horizontal bar chart: rows of [label, segments [{value, cls, label}],
// text shown after the bar], scaled to max. Each label sits above its bar,
// so long area names in any language fit.
function bars(title, rows, max) {
  const W = 640, rowH = 46, barW = W - 90;
  const chart = svg('svg', { viewBox: `0 0 ${W} ${rows.length * rowH + 4}`, role: 'img', 'aria-label': title, class: 'chart' });
  rows.forEach(([label, segs, text], i) => {
    const y = i * rowH;
    chart.append(svg('text', { x: 0, y: y + 15, class: 'chart-label' }, label));
    let x = 0;
    for (const s of segs) {
      const w = max > 0 && s.value > 0 ? (s.value / max) * barW : 0;
      if (w > 0) chart.append(svg('rect', { x, y: y + 21, width: w, height: 18, class: s.cls }, svg('title', {}, s.label)));
      x += w;
    }
    chart.append(svg('text', { x: x + 6, y: y + 35, class: 'chart-value' }, text));
  });
  return chart;
}

function legend(items) {
  return h('ul', { class: 'legend' }, items.map(([label, cls]) =>
    h('li', {}, h('span', { class: 'swatch ' + cls, 'aria-hidden': 'true' }), label)));
}

function table(caption, head, rows) {
  return h('table', { class: 'numbers' }, h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, head.map(x => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.map(r => h('tr', {}, h('th', { scope: 'row' }, r[0]), r.slice(1).map(x => h('td', {}, x))))));
}

function statusChart(areas) {
  const max = Math.max(1, ...areas.map(a => a.referrals.total));
  const title = t('report.by_status');
  return h('section', { class: 'card', 'aria-labelledby': 'ch-status' }, h('h2', { id: 'ch-status' }, title),
    bars(title, areas.map(a => [areaTitle(a.area), STATUSES.map(s => ({
      value: a.referrals.by_status[s] || 0, cls: 's-' + s,
      label: `${statusLabel(s)}: ${fmtNumber(a.referrals.by_status[s] || 0)}` })), fmtNumber(a.referrals.total)]), max),
    legend(STATUSES.map(s => [statusLabel(s), 's-' + s])),
    table(title, [t('referral.area'), t('report.total'), ...STATUSES.map(statusLabel)],
      areas.map(a => [areaTitle(a.area), fmtNumber(a.referrals.total), ...STATUSES.map(s => fmtNumber(a.referrals.by_status[s] || 0))])));
}

function medianChart(areas) {
  const vals = areas.map(a => a.median_days_to_first_appointment);
  const max = Math.max(1, ...vals.filter(v => v !== null));
  const title = t('report.median');
  const fmt = v => (v === null ? '—' : t('report.days', { n: fmtNumber(v, { maximumFractionDigits: 1 }) }));
  return h('section', { class: 'card', 'aria-labelledby': 'ch-median' }, h('h2', { id: 'ch-median' }, title),
    bars(title, areas.map((a, i) => [areaTitle(a.area), [{ value: vals[i] ?? 0, cls: 's-median', label: fmt(vals[i]) }],
      fmt(vals[i])]), max),
    table(title, [t('referral.area'), t('report.median_short')], areas.map((a, i) => [areaTitle(a.area), fmt(vals[i])])));
}

function attendanceChart(areas) {
  const title = t('report.attendance');
  const pct = v => (v === null || v === undefined ? '—' : fmtNumber(v, { style: 'percent', maximumFractionDigits: 0 }));
  return h('section', { class: 'card', 'aria-labelledby': 'ch-att' }, h('h2', { id: 'ch-att' }, title),
    bars(title, areas.map(a => [areaTitle(a.area), [
      { value: a.attendance_rate ?? 0, cls: 's-fulfilled', label: `${t('report.attended')}: ${pct(a.attendance_rate)}` },
      { value: a.no_show_rate ?? 0, cls: 's-noshow', label: `${t('report.no_show')}: ${pct(a.no_show_rate)}` }],
      a.attendance_rate === null ? '—' : `${pct(a.attendance_rate)} / ${pct(a.no_show_rate)}`]), 1),
    legend([[t('report.attended'), 's-fulfilled'], [t('report.no_show'), 's-noshow']]),
    table(title, [t('referral.area'), t('report.booked'), t('report.attended'), t('report.no_show'),
      t('report.attendance_rate'), t('report.no_show_rate')],
    areas.map(a => [areaTitle(a.area), fmtNumber(a.appointments.booked), fmtNumber(a.appointments.fulfilled),
      fmtNumber(a.appointments.noshow), pct(a.attendance_rate), pct(a.no_show_rate)])));
}
