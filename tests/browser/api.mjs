// api.mjs: korpud's API as one of the demo staff, for the steps of a
// journey that another person takes meanwhile (a clinic accepting the
// caseworker's referral). Each uid signs in once per journey.
const tokens = new Map();

async function token(ctx, uid) {
  if (!tokens.has(uid)) {
    const r = await fetch(ctx.base_url + '/api/v1/login', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: uid, password: ctx.users[uid].password }),
    });
    if (r.status !== 200) throw new Error(`sign-in of ${uid} through the API: ${r.status}`);
    tokens.set(uid, (await r.json()).token);
  }
  return tokens.get(uid);
}

// apiAs(ctx, 'arzayeva', 'POST', '/referrals/ID/transition', {to: 'accepted'}) -> the answer's JSON.
export async function apiAs(ctx, uid, method, path, body) {
  const headers = { Authorization: 'Bearer ' + await token(ctx, uid) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(ctx.base_url + '/api/v1' + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path} as ${uid}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
