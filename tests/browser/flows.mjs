// The web app's flows in a real headless Chromium (/usr/bin/chromium, driven by playwright-core,
// which never downloads a browser), each page checked with axe-core. Run by tests/api/browser.rs
// against a `shura serve` on the seeds; everything it needs comes in the environment:
//   SHURA_URL, SHURA_PASSWORD, SHURA_EDITOR and SHURA_EDITOR2 (editors of MA-03), SHURA_ADMIN,
//   SHURA_ACTION (a seeded follow-up in MA-06), SHURA_ELSEWHERE (a seeded consultation in MA-04),
//   SHURA_OWN_ACTION (a follow-up in MA-03),
//   SHURA_SHOTS (where screenshots go).
// Prints "PASS x name" or "FAIL x name: why" per scenario; exits 1 when any failed.

import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

const require = createRequire(import.meta.url);
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const BASE = env('SHURA_URL');
const PASSWORD = env('SHURA_PASSWORD');
const EDITOR = env('SHURA_EDITOR');
const EDITOR2 = env('SHURA_EDITOR2');
const ADMIN = env('SHURA_ADMIN');
const ACTION = env('SHURA_ACTION');
const ELSEWHERE = env('SHURA_ELSEWHERE');
const OWN_ACTION = env('SHURA_OWN_ACTION');
const SHOTS = env('SHURA_SHOTS');
// axe is evaluated through the DevTools protocol rather than added as a <script>: the pages'
// Content-Security-Policy (script-src 'self') stays on, and a violation of it is a failure.
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const url = (path) => new URL(path, BASE).toString();

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** A fresh context (cookies of its own) in `locale`, recording CSP violations and script errors. */
async function context(browser, locale, viewport = { width: 1280, height: 900 }) {
  const ctx = await browser.newContext({ locale, viewport, acceptDownloads: false });
  ctx.problems = [];
  ctx.on('page', (page) => watch(page, ctx.problems));
  return ctx;
}

function watch(page, problems) {
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content.Security.Policy|Refused to/i.test(message.text())) {
      problems.push(`${page.url()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
}

async function newPage(ctx) {
  const page = await ctx.newPage();
  page.setDefaultTimeout(10_000);
  return page;
}

function clean(ctx) {
  const unique = [...new Set(ctx.problems.map((p) => p.replace(/^\S+: /, '').slice(0, 160)))];
  check(unique.length === 0, `script or CSP errors on ${ctx.problems.length} pages: ${unique.join(' | ')}`);
}

/** Goes to `path`; fails unless the answer is `status` (200 by default). */
async function go(page, path, status = 200) {
  const response = await page.goto(url(path), { waitUntil: 'load' });
  check(response, `no answer for ${path}`);
  check(
    response.status() === status,
    `${path}: HTTP ${response.status()}, expected ${status}: ${(await page.textContent('main').catch(() => '')) ?? ''}`.slice(0, 600),
  );
  return response;
}

/** axe-core on the page as it is: fails on any serious or critical violation. */
async function axe(page, label) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.evaluate(AXE);
  }
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(
    bad.length === 0,
    `axe on ${label} (${page.url()}): ` +
      bad
        .map((v) => `${v.id} [${v.impact}] ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')}`)
        .join('; '),
  );
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function html(page) {
  return page.evaluate(() => ({
    lang: document.documentElement.lang,
    dir: document.documentElement.dir,
  }));
}

async function text(page, selector) {
  return ((await page.textContent(selector)) ?? '').trim();
}

/** Signs in from wherever the page is sent to the sign-in form; ends where it was going. */
async function signIn(page, user, path = '/') {
  await go(page, path);
  check(new URL(page.url()).pathname === '/signin', `not sent to /signin but ${page.url()}`);
  await page.fill('#username', user);
  await page.fill('#password', PASSWORD);
  await Promise.all([
    page.waitForURL((u) => u.pathname !== '/signin'),
    page.click('main form button[type=submit]'),
  ]);
}

/** Submits the form `selector` by its main button and waits for the next page; returns its status. */
async function submit(page, selector) {
  const form = page.locator(selector);
  check((await form.count()) === 1, `${await form.count()} forms ${selector} on ${page.url()}`);
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    form.locator('button[type=submit]:not([form])').last().click(),
  ]);
  return response ? response.status() : 0;
}

/** Fills named inputs (domain JSON paths) of the page: text, number, date, select, textarea. */
async function fill(page, values, scope = 'main') {
  for (const [name, value] of Object.entries(values)) {
    const field = page.locator(`${scope} [name="${name}"]`);
    check((await field.count()) === 1, `no field named ${name} on ${page.url()}`);
    const tag = await field.evaluate((el) => el.tagName.toLowerCase());
    if (tag === 'select') {
      await field.selectOption(String(value));
    } else {
      await field.fill(String(value));
    }
  }
}

/** The form token the page carries (every signed-in page has one, in the sign-out form). */
async function csrf(page) {
  return page.getAttribute('input[name="_csrf"]', 'value');
}

async function noHorizontalScroll(page, label) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  check(scroll <= 360, `${label} (${page.url()}) scrolls sideways at 360 px: scrollWidth ${scroll}, clientWidth ${client}`);
}

// ---------------------------------------------------------------------------------- scenarios

/** a) Sign in in Arabic (right to left), switch to French; axe on the sign-in page and the dashboard. */
async function signInAndLanguages(browser) {
  const ctx = await context(browser, 'ar-MA');
  const page = await newPage(ctx);
  await go(page, '/');
  check(new URL(page.url()).pathname === '/signin', `signed out, / went to ${page.url()}`);
  const signin = await html(page);
  check(signin.lang === 'ar' && signin.dir === 'rtl', `sign-in page is ${JSON.stringify(signin)}`);
  check((await text(page, 'h1')) === 'تسجيل الدخول', `sign-in heading: ${await text(page, 'h1')}`);
  await axe(page, 'the sign-in page (ar)');
  await shot(page, 'a-signin-ar');

  // A wrong password first: the message in Arabic, announced.
  await page.fill('#username', EDITOR);
  await page.fill('#password', 'not the password at all');
  await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
  check((await text(page, '#signin-error')).includes('غير صحيحة'), 'no Arabic refusal');
  check((await page.inputValue('#username')) === EDITOR, 'the username was not kept');
  await axe(page, 'the refused sign-in (ar)');

  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.click('main form button[type=submit]')]);
  check((await text(page, 'h1')) === 'لوحة القيادة', `dashboard heading: ${await text(page, 'h1')}`);
  check((await page.$('#kpi-average')) !== null, 'no progress figure on the dashboard');
  check(
    (await page.getAttribute('nav.main-nav a[href="/"]', 'aria-current')) === 'page',
    'the dashboard entry is not aria-current',
  );
  await axe(page, 'the dashboard (ar)');
  await shot(page, 'a-dashboard-ar');

  // The language link keeps the page and the choice.
  await Promise.all([page.waitForNavigation(), page.click('nav.langs a[hreflang="fr"]')]);
  const french = await html(page);
  check(french.lang === 'fr' && french.dir === 'ltr', `after the switch: ${JSON.stringify(french)}`);
  check((await text(page, 'h1')) === 'Tableau de bord', `French heading: ${await text(page, 'h1')}`);
  await axe(page, 'the dashboard (fr)');
  await go(page, '/');
  check((await html(page)).lang === 'fr', 'the choice of French was not kept');
  await shot(page, 'a-dashboard-fr');

  // Keyboard: the skip link is the first stop and shows where focus is.
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return { cls: el.className, outline: style.outlineStyle, shadow: style.boxShadow };
  });
  check(focused.cls === 'skip', `first Tab stop: ${JSON.stringify(focused)}`);
  check(focused.outline !== 'none' || focused.shadow !== 'none', 'focus is not visible on the skip link');
  clean(ctx);
  await ctx.close();
}

/** Chooses a stakeholder in a picker as one types (htmx fills the suggestions, shura.js the id). */
async function pick(page, fieldId, query, pattern) {
  await page.fill(`#${fieldId}-q`, query);
  const option = page.locator(`#${fieldId}-suggestions [data-pick-id]`).filter({ hasText: pattern }).first();
  await option.waitFor({ timeout: 5_000 }).catch(() => {
    throw new Error(`no suggestion matching ${pattern} for "${query}" in #${fieldId}`);
  });
  await option.click();
  const chosen = await page.inputValue(`#${fieldId}`);
  check(/^[0-9a-f-]{36}$/.test(chosen), `choosing in #${fieldId} gave "${chosen}"`);
}

/** Sends a meeting form (`#form-NAME`) by its main button; fails unless it lands on `step`. */
async function send(page, name, id, step) {
  const status = await submit(page, `#form-${name}`);
  const problems = await page.evaluate(() =>
    [...document.querySelectorAll('main .notice.error, main .invalid')].map((el) =>
      el.classList.contains('invalid')
        ? `${el.querySelector('label')?.textContent?.trim()}: ${el.querySelector('.field-error')?.textContent?.trim()}`
        : el.textContent.trim(),
    ),
  );
  check(problems.length === 0, `${name} refused (HTTP ${status}): ${problems.join(' | ')}`);
  const path = new URL(page.url()).pathname;
  check(status === 200, `${name}: HTTP ${status} at ${path}`);
  if (id) check(path === `/meetings/${id}/${step}`, `${name} led to ${path}, expected step ${step}`);
}

const CHAMBER = /غرفة التجارة|Chambre de Commerce|CCIS/;

/** b) Logs a whole meeting through the meeting pages, from planning to closing, in `lang`. */
async function logMeeting(browser, lang) {
  const w = MEETING[lang];
  const ctx = await context(browser, lang === 'ar' ? 'ar-MA' : 'fr-FR');
  const page = await newPage(ctx);
  await signIn(page, EDITOR, '/meetings/new');
  check(new URL(page.url()).pathname === '/meetings/new', `not on /meetings/new but ${page.url()}`);
  check((await html(page)).lang === lang, `the meeting form is not in ${lang}`);
  check(
    (await page.getAttribute('nav.main-nav a[href="/meetings/new"]', 'aria-current')) === 'page',
    'the new meeting entry is not aria-current',
  );
  await axe(page, `the new meeting form (${lang})`);

  // Planning.
  await fill(page, w.plan, '#form-new');
  await pick(page, 'f-organisers', w.chamber, CHAMBER);
  await send(page, 'new');
  const match = new URL(page.url()).pathname.match(/^\/meetings\/([0-9a-f-]{36})\/participants$/);
  check(match, `planning did not lead to the participants step: ${page.url()}`);
  const id = match[1];
  console.log(`meeting ${lang} ${id}`);
  check((await text(page, 'main')).includes(w.plan[`title.${lang}`]), 'the planned title is not shown');
  await axe(page, `the participants step (${lang})`);
  await shot(page, `b-${lang}-participants`);

  // A person new to the directory, then as a participant; an organisation from the directory.
  await fill(page, w.person, '#form-people');
  await send(page, 'people', id, 'participants');
  check(/^[0-9a-f-]{36}$/.test(await page.inputValue('#form-participants [name="person_id"]')), 'the new person is not chosen');
  await fill(page, w.participant, '#form-participants');
  await pick(page, 'f-organisation_id', w.chamber, CHAMBER);
  await send(page, 'participants', id, 'participants');
  check((await text(page, 'main')).includes(w.personName), 'the participant is not listed');

  await go(page, `/meetings/${id}/recommendations`);
  await fill(page, w.recommendation, '#form-recommendations');
  await send(page, 'recommendations', id, 'recommendations');
  await axe(page, `the recommendations step (${lang})`);

  await go(page, `/meetings/${id}/agreements`);
  await fill(page, w.agreement, '#form-agreements');
  await send(page, 'agreements', id, 'agreements');
  await axe(page, `the agreements step (${lang})`);

  await go(page, `/meetings/${id}/actions`);
  await fill(page, w.action, '#form-actions');
  await pick(page, 'f-owner_organisation_id', w.chamber, CHAMBER);
  await send(page, 'actions', id, 'actions');
  check((await text(page, 'main')).includes(w.action[`title.${lang}`]), 'the follow-up is not listed');
  await axe(page, `the actions step (${lang})`);
  await shot(page, `b-${lang}-actions`);

  await go(page, `/meetings/${id}/held`);
  await send(page, 'held', id, 'close');
  await axe(page, `the close step (${lang})`);
  await send(page, 'close', id, 'close');
  check((await text(page, '#meeting-status')) === w.closed, `status after closing: ${await text(page, '#meeting-status')}`);
  await shot(page, `b-${lang}-closed`);

  // The record shows what was typed, and that it is closed.
  await go(page, `/consultations/${id}`);
  const record = await text(page, 'main');
  for (const expected of [w.plan[`title.${lang}`], w.personName, w.closed, w.action[`title.${lang}`]]) {
    check(record.includes(expected), `the record does not show "${expected}"`);
  }
  await axe(page, `the consultation record (${lang})`);
  await shot(page, `b-${lang}-record`);
  clean(ctx);
  await ctx.close();
  return id;
}

const MEETING = {
  ar: {
    plan: {
      kind: 'regional_consultation',
      'title.ar': 'لقاء تشاوري حول مواكبة المقاولات الصغيرة بمكناس',
      'schedule.start.year': '2025',
      'schedule.start.month': '6',
      'schedule.start.day': '12',
      'place.name.ar': 'مقر غرفة التجارة والصناعة والخدمات',
      'place.city.ar': 'مكناس',
      region: 'MA-03',
      'purpose.ar': 'تدارس سبل مواكبة المقاولات الصغيرة والمتوسطة في ولوج الأسواق الخارجية',
    },
    chamber: 'غرفة التجارة',
    person: { 'name.arabic': 'يوسف العلمي' },
    personName: 'يوسف العلمي',
    participant: { 'capacity.ar': 'رئيس مصلحة الاستثمار', role: 'speaker' },
    recommendation: { 'text.ar': 'إحداث شباك موحد لمواكبة المقاولات الصغيرة في التصدير', themes: 'export-promotion، market-access' },
    agreement: { 'title.ar': 'اتفاقية شراكة لدعم المقاولات الناشئة', kind: 'partnership_agreement', status: 'envisaged', 'budget.amount': '1500000' },
    action: { 'title.ar': 'إعداد دفتر تحملات الشباك الموحد', 'due.year': '2026', 'due.month': '3' },
    closed: 'مغلقة',
  },
  fr: {
    plan: {
      kind: 'workshop',
      'title.fr': 'Atelier régional sur l’export des PME de Fès',
      'schedule.start.year': '2025',
      'schedule.start.month': '9',
      'schedule.start.day': '18',
      'place.name.fr': 'Siège de la Chambre de commerce',
      'place.city.fr': 'Fès',
      region: 'MA-03',
      'purpose.fr': 'Recenser les freins à l’export des petites et moyennes entreprises de la région',
    },
    chamber: 'Chambre',
    person: { 'name.latin': 'Amina Berrada' },
    personName: 'Amina Berrada',
    participant: { 'capacity.fr': 'Cheffe du service de l’investissement', role: 'speaker' },
    recommendation: { 'text.fr': 'Créer un guichet export pour les PME de la région', themes: 'export-development, capacity-building' },
    agreement: { 'title.fr': 'Convention d’accompagnement des PME à l’export', kind: 'partnership_agreement', status: 'envisaged', 'budget.amount': '2 500 000,50' },
    action: { 'title.fr': 'Ouvrir le guichet export à la Chambre de commerce', 'due.year': '2026', 'due.month': '5' },
    closed: 'Clôturée',
  },
};

/** c) Progress on a follow-up (/actions/{id}) moves the dashboard's average. */
const TODAY = new Date().toISOString().slice(0, 10);
const PROGRESS_FORM = '#form-progress form';

async function progressMovesTheDashboard(browser) {
  const ctx = await context(browser, 'fr-FR');
  const page = await newPage(ctx);
  await signIn(page, ADMIN, '/?region=MA-06');
  const before = await text(page, '#kpi-average');
  check(before.startsWith('0'), `the seeded follow-up's average is ${before}, expected 0 %`);
  await go(page, `/actions/${ACTION}`);
  await axe(page, 'a follow-up (fr)');
  await fill(page, { on: TODAY, progress: '60', 'note.fr': 'Deux contrats-objectifs sur cinq sont signés.' }, PROGRESS_FORM);
  check((await submit(page, PROGRESS_FORM)) === 200, 'the progress report did not land');
  check(new URL(page.url()).searchParams.get('saved') === 'progress', `not saved: ${page.url()}`);
  check((await text(page, '#progress')) === '60%', `the follow-up shows ${await text(page, '#progress')}`);
  check((await text(page, '#reports')).includes('Deux contrats-objectifs'), 'the report is not listed');
  await axe(page, 'a follow-up after a report (fr)');
  await go(page, '/?region=MA-06');
  const after = await text(page, '#kpi-average');
  check(after.startsWith('60'), `the average went from ${before} to ${after}, expected 60 %`);
  await shot(page, 'c-dashboard-after-progress');
  clean(ctx);
  await ctx.close();
}

/** d) An editor of MA-03 is offered no form elsewhere, and a forged submit is refused (403). */
async function otherRegionRefused(browser) {
  const ctx = await context(browser, 'ar-MA');
  const page = await newPage(ctx);
  await signIn(page, EDITOR);
  // Its own region's follow-up offers the forms (the control)...
  await go(page, `/actions/${OWN_ACTION}`);
  check((await page.locator(`${PROGRESS_FORM} [name="progress"]`).count()) === 1, 'no progress form on its own region\'s follow-up');
  // ...another region's consultation and follow-up do not.
  await go(page, `/consultations/${ELSEWHERE}`);
  check((await page.locator('main a[href^="/meetings/"]').count()) === 0, 'an editing link is offered on another region\'s consultation');
  check((await text(page, '#write')).includes('للاطلاع فقط'), `no read-only notice: ${await text(page, '#write')}`);
  const forms = await page.locator('main form[method="post"]').count();
  check(forms === 0, `${forms} writing forms offered on another region's consultation`);
  await go(page, `/actions/${ACTION}`);
  check((await page.locator('main form[method="post"]').count()) === 0, 'a form is offered on another region\'s follow-up');
  // Forged submits with a valid form token: refused, in Arabic, nothing written (checked in Rust).
  const token = await csrf(page);
  check(token, 'no form token on the page');
  const forged = [
    [`/actions/${ACTION}/progress`, { _csrf: token, _key: randomUUID(), _version: '1', on: TODAY, progress: '90' }],
    [`/meetings/${ELSEWHERE}/held`, { _csrf: token, _key: randomUUID() }],
  ];
  for (const [path, form] of forged) {
    const response = await page.request.post(url(path), { form, maxRedirects: 0 });
    const body = await response.text();
    check(response.status() === 403, `forged POST ${path}: HTTP ${response.status()}, expected 403`);
    check(body.includes('lang="ar"'), `the refusal of ${path} is not an Arabic page`);
  }
  await page.setContent(await (await page.request.post(url(forged[0][0]), { form: forged[0][1] })).text());
  await shot(page, 'd-refused');
  clean(ctx);
  await ctx.close();
}

/** e) Two people save the same form: the second sees the conflict, what changed, and saves again. */
async function conflictResolved(browser) {
  const first = await context(browser, 'ar-MA');
  const second = await context(browser, 'fr-FR');
  const a = await newPage(first);
  const b = await newPage(second);
  await signIn(a, EDITOR);
  await signIn(b, EDITOR2);
  const path = `/actions/${OWN_ACTION}`;
  await go(a, path);
  await go(b, path);
  const drawn = await b.inputValue(`${PROGRESS_FORM} [name="_version"]`);
  await fill(a, { on: TODAY, progress: '30', 'note.ar': 'انطلقت أشغال إعداد المنصة' }, PROGRESS_FORM);
  check((await submit(a, PROGRESS_FORM)) === 200, 'the first save failed');
  await fill(b, { on: TODAY, progress: '40', 'note.fr': 'Cahier des charges de la plateforme rédigé' }, PROGRESS_FORM);
  const status = await submit(b, PROGRESS_FORM);
  check(status === 409, `the second save answered HTTP ${status}, expected 409`);
  const notice = await text(b, '#conflict');
  check(notice.includes('Quelqu’un a modifié'), `no conflict notice: ${notice}`);
  // What changed since: the other person's report, by name.
  check(notice.includes('سلمى بناني'), `the change's author is not named: ${notice}`);
  check((await b.inputValue(`${PROGRESS_FORM} [name="progress"]`)) === '40', 'the typed progress was lost');
  check(
    (await b.inputValue(`${PROGRESS_FORM} [name="note.fr"]`)) === 'Cahier des charges de la plateforme rédigé',
    'the typed note was lost',
  );
  const now = await b.inputValue(`${PROGRESS_FORM} [name="_version"]`);
  check(Number(now) > Number(drawn), `the form still holds version ${now} (drawn at ${drawn})`);
  await axe(b, 'the conflict (fr)');
  await shot(b, 'e-conflict');
  check((await submit(b, PROGRESS_FORM)) === 200, 'saving again failed');
  check(new URL(b.url()).searchParams.get('saved') === 'progress', `saving again did not save: ${b.url()}`);
  check((await text(b, '#progress')) === '40%', `the follow-up shows ${await text(b, '#progress')}`);
  clean(first);
  clean(second);
  await first.close();
  await second.close();
}

/** f) A phone: 360x740, nothing scrolls sideways; screenshots. */
async function phoneWidth(browser) {
  const ctx = await context(browser, 'ar-MA', { width: 360, height: 740 });
  const page = await newPage(ctx);
  await signIn(page, EDITOR);
  const pages = [
    ['/', 'f-dashboard'],
    ['/consultations', 'f-consultations'],
    [`/consultations/${ELSEWHERE}`, 'f-consultation'],
    ['/meetings/new', 'f-meeting-new'],
  ];
  const failures = [];
  for (const [path, name] of pages) {
    try {
      await go(page, path);
      await shot(page, name);
      await noHorizontalScroll(page, name);
      await axe(page, `${name} at 360 px`);
    } catch (error) {
      failures.push(error.message);
    }
  }
  check(failures.length === 0, failures.join(' | '));
  clean(ctx);
  await ctx.close();
}

// ------------------------------------------------------------------------------------- runner

// launch() starts the browser on a fresh temporary profile of its own, removed on close.
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

const scenarios = [
  ['a', 'sign-in, languages, axe', signInAndLanguages],
  ['b', 'a meeting logged in Arabic', (b) => logMeeting(b, 'ar')],
  ['b', 'a meeting logged in French', (b) => logMeeting(b, 'fr')],
  ['c', 'progress moves the dashboard', progressMovesTheDashboard],
  ['d', 'another region refused', otherRegionRefused],
  ['e', 'a conflict shown and resolved', conflictResolved],
  ['f', 'a phone width', phoneWidth],
];
let failed = 0;
for (const [key, name, run] of scenarios) {
  const started = Date.now();
  try {
    await run(browser);
    console.log(`PASS ${key} ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${key} ${name}: ${error.message.split('\n').slice(0, 6).join(' ')}`);
  }
}
await browser.close();
console.log(`${scenarios.length - failed} of ${scenarios.length} scenarios passed`);
process.exit(failed === 0 ? 0 : 1);
