// language: the interface switches between English, Azerbaijani and
// Russian, and the choice is remembered across a reload and a sign-out.
import { signIn } from '../lib.mjs';

async function heading(page, expect, name, what) {
  await expect.visible(page.getByRole('heading', { name, exact: true }), what);
}

export default async function language(page, ctx, expect) {
  await page.goto('/');
  await signIn(page, ctx, ctx.staff.caseworker);
  await heading(page, expect, 'Clients', 'the English Clients screen');
  const select = page.getByRole('combobox', { name: 'Language' });

  await select.selectOption('az');
  await heading(page, expect, 'Müştərilər', 'the Clients screen in Azerbaijani');
  await expect.visible(page.getByRole('button', { name: 'Çıxış', exact: true }), 'the Azerbaijani Sign out button');
  await expect.visible(page.getByRole('link', { name: 'Müştərini qeydiyyata al', exact: true }), 'the Azerbaijani Register link');
  expect.equal(await page.evaluate(() => document.documentElement.lang), 'az', 'the page\'s lang');
  await ctx.screenshot('clients-az.png');

  // korpud's frequent validation messages are said in the language too.
  await page.getByRole('link', { name: 'Müştərini qeydiyyata al', exact: true }).click();
  await page.getByRole('button', { name: 'Qeydiyyata al', exact: true }).click();
  const regNo = page.getByLabel('Qeydiyyat nömrəsi');
  await expect.poll(async () => (await regNo.getAttribute('aria-invalid')) === 'true', 'the empty form refused');
  const errId = (await regNo.getAttribute('aria-describedby')).split(' ').pop();
  await expect.text(page.locator('#' + errId), 'mütləqdir', 'the message in Azerbaijani');
  await page.getByRole('link', { name: 'Müştərilər', exact: true }).click();

  await page.reload();
  await heading(page, expect, 'Müştərilər', 'Azerbaijani again after a reload (the choice is remembered)');

  await page.getByRole('combobox', { name: 'Dil' }).selectOption('ru');
  await heading(page, expect, 'Клиенты', 'the Clients screen in Russian');
  expect.equal(await page.evaluate(() => document.documentElement.lang), 'ru', 'the page\'s lang');
  await page.getByRole('button', { name: 'Выйти', exact: true }).click();
  await expect.visible(page.getByRole('button', { name: 'Войти', exact: true }), 'the Russian sign-in form after signing out');
  await expect.visible(page.getByLabel('Имя пользователя'), 'the Russian Username label');

  await page.getByRole('combobox', { name: 'Язык' }).selectOption('en');
  await expect.visible(page.getByRole('button', { name: 'Sign in', exact: true }), 'English again');
}
