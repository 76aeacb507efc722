// web.mjs - mugai-web in a real browser: Debian's chromium, headless,
// driven by puppeteer-core (tests/e2e/web-browser.sh runs it).
//
//   node web.mjs BASE_URL SHOTS_DIR STAFF:PASSWORD ADMIN:PASSWORD SUBJECT
//
// Logs in as staff, searches for SUBJECT, opens the message, checks the
// subject shows as text and that no script of the message ran (no
// dialog, no element made from it) and asks for its original with a
// reason through the page's form; then logs in as admin, finds the
// request in /requests and approves it, and opens the statistics.
// Prints "PASS name" / "FAIL name: why" lines; screenshots go to
// SHOTS_DIR.
import puppeteer from "puppeteer-core";

const [base, shots, staff, admin, subject] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
let failed = 0;

function result(name, ok, why) {
	if (ok) {
		console.log(`PASS web-browser/${name}`);
	} else {
		failed++;
		console.log(`FAIL web-browser/${name}: ${why}`);
	}
}

async function step(name, fn) {
	try {
		const why = await fn();
		result(name, why === undefined || why === true, why);
	} catch (e) {
		result(name, false, String(e).split("\n")[0]);
	}
}

async function login(page, cred) {
	const [user, pass] = cred.split(":");
	await page.goto(`${base}/login`, { waitUntil: "load" });
	await page.type("#user-name", user);
	await page.type("#password", pass);
	await Promise.all([page.waitForNavigation(), page.click("#login-button")]);
}

const browser = await puppeteer.launch({
	executablePath,
	headless: true,
	// root in a container: chromium's own sandbox needs user namespaces
	// it may not have; the page is our own console.
	args: ["--no-sandbox", "--disable-gpu"],
});
const dialogs = [];
const cspErrors = [];
const context = await browser.createBrowserContext();
const page = await context.newPage();
page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
page.on("console", (m) => {
	if (/Content Security Policy/i.test(m.text()))
		cspErrors.push(m.text());
});
await page.setViewport({ width: 1280, height: 900 });
// What a browser set to Japanese sends (headless chromium ignores --lang).
await page.setExtraHTTPHeaders({ "Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5" });

await step("staff logs in", async () => {
	await login(page, staff);
	const who = await page.$eval("#user", (e) => e.textContent);
	return who === staff.split(":")[0] || `signed in as "${who}"`;
});
await step("a browser asking for Japanese gets the Japanese page", async () => {
	const h1 = await page.$eval("h1", (e) => e.textContent);
	return h1 === "メール一覧" || `h1 is "${h1}"`;
});
await step("search by subject finds the message", async () => {
	await page.type("#q-subject", "script");
	await Promise.all([page.waitForNavigation(), page.click("#search-button")]);
	const subjects = await page.$$eval("a.subject", (as) => as.map((a) => a.textContent));
	await page.screenshot({ path: `${shots}/list.png`, fullPage: true });
	return (subjects.length === 1 && subjects[0] === subject) ||
	    `subjects: ${JSON.stringify(subjects)}`;
});
await step("the message opens with its subject shown as text", async () => {
	await Promise.all([page.waitForNavigation(), page.click("a.subject")]);
	const s = await page.$eval("#subject", (e) => e.textContent);
	await page.screenshot({ path: `${shots}/message.png`, fullPage: true });
	return s === subject || `subject cell is "${s}"`;
});
await step("no script from the message ran or became an element", async () => {
	const scripts = await page.$$eval("script", (ss) => ss.map((s) => s.src));
	const own = scripts.every((src) => src.endsWith("/static/mugai.js"));
	if (dialogs.length)
		return `dialogs: ${JSON.stringify(dialogs)}`;
	return (own && scripts.length === 1) || `scripts: ${JSON.stringify(scripts)}`;
});
await step("the console's own script and style load under the CSP", async () => {
	const color = await page.$eval("header", (e) => getComputedStyle(e).backgroundColor);
	if (cspErrors.length)
		return `CSP errors: ${cspErrors.join(" | ")}`;
	return color === "rgb(34, 51, 68)" || `header colour ${color}: mugai.css not applied`;
});
await step("staff has no release form and cannot download", async () => {
	const forms = await page.$$("#release, #delete, #download");
	const url = page.url().replace("/message/", "/original/");
	const r = await page.goto(url);
	await page.goBack();
	return (forms.length === 0 && r.status() === 403) ||
	    `forms ${forms.length}, download status ${r.status()}`;
});
await step("switching to English", async () => {
	await Promise.all([page.waitForNavigation(), page.click("#lang-en")]);
	const h1 = await page.$eval("h1", (e) => e.textContent);
	return h1 === "Message" || `h1 is "${h1}"`;
});
await step("staff asks for the original with a reason", async () => {
	await page.type("#request-reason", "I need the attachment (browser test)");
	await Promise.all([page.waitForNavigation(), page.click("#request-button")]);
	const done = await page.$("#done");
	const states = await page.$$eval("tr.req td.state", (ts) => ts.map((t) => t.textContent));
	return (done !== null && page.url().includes("/requests") &&
	    states.length === 1 && states[0] === "pending") ||
	    `at ${page.url()}, states ${JSON.stringify(states)}`;
});
await step("staff logs out", async () => {
	await Promise.all([page.waitForNavigation(), page.click("#logout")]);
	return page.url().endsWith("/login") || `at ${page.url()}`;
});
await step("admin sees the request in /requests and approves it", async () => {
	await login(page, admin);
	await page.goto(`${base}/requests`);
	const reasons = await page.$$eval("tr.req", (rs) => rs.map((r) => r.textContent));
	if (reasons.length !== 1 || !reasons[0].includes("I need the attachment"))
		return `queue: ${JSON.stringify(reasons)}`;
	await page.screenshot({ path: `${shots}/requests.png`, fullPage: true });
	await page.type("form.approve input[name=reason]", "approved in the browser test");
	await Promise.all([page.waitForNavigation(), page.click("form.approve button")]);
	const done = await page.$("#done");
	return done !== null || `no confirmation; at ${page.url()}`;
});
await step("admin opens the statistics, drawn as SVG", async () => {
	await page.goto(`${base}/stats`);
	const svgs = await page.$$("svg.chart");
	await page.screenshot({ path: `${shots}/stats.png`, fullPage: true });
	if (cspErrors.length)
		return `CSP errors: ${cspErrors.join(" | ")}`;
	return svgs.length >= 2 || `${svgs.length} charts`;
});
await step("still no dialog anywhere", async () =>
	dialogs.length === 0 || `dialogs: ${JSON.stringify(dialogs)}`);

await browser.close();
process.exit(failed ? 1 : 0);
