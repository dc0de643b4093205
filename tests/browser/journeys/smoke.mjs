// smoke: the sign-in form, a caseworker's sign-in and sign-out.
// Saves the sign-in screen as login.png.
export default async function smoke(page, ctx, expect) {
  const uid = ctx.staff.caseworker;
  await page.goto('/');

  const username = page.getByLabel('Username');
  const password = page.getByLabel('Password');
  const signIn = page.getByRole('button', { name: 'Sign in', exact: true });
  const signOut = page.getByRole('button', { name: 'Sign out', exact: true });
  await expect.visible(username, 'the sign-in form\'s Username field');
  await expect.visible(password, 'the sign-in form\'s Password field');
  await expect.visible(signIn, 'the Sign in button');
  await expect.hidden(signOut, 'the Sign out button before anyone signed in');
  await ctx.screenshot('login.png');

  await username.fill(uid);
  await password.fill(ctx.users[uid].password);
  await signIn.click();
  await expect.visible(signOut, `the Sign out button after ${uid} (caseworker) signed in`);
  await expect.visible(page.getByRole('heading', { name: 'Clients', exact: true }),
    'the heading "Clients" of the caseworker\'s first screen');
  await expect.hidden(signIn, 'the Sign in button once signed in');

  await signOut.click();
  await expect.visible(username, 'the Username field after signing out');
  await expect.visible(password, 'the Password field after signing out');
  await expect.visible(signIn, 'the Sign in button after signing out');
  await expect.hidden(signOut, 'the Sign out button after signing out');
}
