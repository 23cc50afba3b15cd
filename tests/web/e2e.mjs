// The web app end to end: a real `docket up` (todo-api, notification and
// recurring services, the sidecar) and Debian's Chromium, as a person uses it.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { accessibilityProblems } from "./a11y.mjs";
import { launchBrowser } from "./browser.mjs";
import { repoRoot, startDocket } from "./docket.mjs";
import { loadTiming, printTiming } from "./timing.mjs";

const OUT = join(repoRoot, "tests/web/test-output");
mkdirSync(OUT, { recursive: true });

const user = `web${Date.now().toString(36)}`;
const password = "correct horse battery";

let docket;
let browser;
let page;

const shot = (name) => page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true });
const task = (title) => page.locator("li.task", { has: page.locator(".task-title", { hasText: title }) });
const alertText = async (scope) => (await scope.locator(".error:not([hidden])").first().innerText()).trim();

const accessibility = new Map();
/** Records the page's serious accessibility problems under `screen`. */
async function audit(screen) {
  accessibility.set(screen, await accessibilityProblems(page));
}

/** Polls `check` until it returns true or `ms` pass. */
async function eventually(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function go(screen) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: screen }).click();
  await page.getByRole("heading", { level: 1, name: screen }).waitFor();
}

/** Tab (only) until the focused element matches; fails after `limit` presses. */
async function tabTo(matches, limit, what) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(matches)) return;
  }
  throw new Error(`Tab never reached ${what}`);
}

// The steps build on each other: after a failure the rest are skipped
// rather than each waiting out its own timeout.
let broken = null;
function step(name, body) {
  it(name, async (t) => {
    if (broken) return t.skip(`after the failure of "${broken}"`);
    try {
      await body();
    } catch (failure) {
      broken = name;
      await shot(`failed-${name.replace(/\W+/g, "-")}`).catch(() => {});
      throw failure;
    }
  });
}

describe("web app", () => {
  before(async () => {
    docket = await startDocket();
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });

  after(async () => {
    await browser?.close();
    await docket?.stop();
  });

  step("serves the app at / and loads it", async () => {
    const reply = await fetch(`${docket.url}/`);
    assert.equal(reply.status, 200, "GET / should serve the app");
    assert.match(reply.headers.get("content-type") ?? "", /text\/html/);
    const cold = await loadTiming(page, `${docket.url}/`);
    const warm = await loadTiming(page, `${docket.url}/`);
    printTiming("cold", cold);
    printTiming("warm", warm);
    await page.getByRole("tab", { name: "Log in" }).waitFor();
  });

  step("signs up and lands on the task list", async () => {
    await page.getByRole("tab", { name: "Sign up" }).click();
    await page.getByLabel("Username").fill(user);
    await page.getByLabel("Password").fill(password);
    await shot("01-sign-up");
    await audit("sign up");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { level: 1, name: "Tasks" }).waitFor();
    await page.getByText("Nothing here. Add a task above.").waitFor();
  });

  step("creates two tags", async () => {
    await go("Tags");
    for (const [name, color] of [
      ["home", "#22c55e"],
      ["errands", "#8b5cf6"],
    ]) {
      await page.getByLabel("Name", { exact: true }).fill(name);
      await page.locator('form[aria-label="New tag"] input[type="color"]').fill(color);
      await page.getByRole("button", { name: "Create tag" }).click();
      await page.getByRole("form", { name: `Tag ${name}` }).waitFor();
    }
    await shot("02-tags");
    await audit("tags");
  });

  step("adds a task with a priority and two tags", async () => {
    await go("Tasks");
    await page.locator("#new-task").fill("Buy groceries");
    await page.locator("#new-task-priority").selectOption("High");
    const picker = page.getByRole("group", { name: "Tags for the new task" });
    await picker.getByRole("button", { name: "home" }).click();
    await picker.getByRole("button", { name: "errands" }).click();
    await page.getByRole("button", { name: "Add", exact: true }).click();
    const item = task("Buy groceries");
    await item.waitFor();
    assert.match(await item.locator(".priority").innerText(), /High/);
    assert.deepEqual((await item.locator(".chip").allInnerTexts()).sort(), ["errands", "home"]);

    await page.locator("#new-task").fill("Read a book");
    await page.locator("#new-task-priority").selectOption("Low");
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await task("Read a book").waitFor();
    await shot("03-tasks");
    await audit("tasks");
  });

  step("filters by a tag", async () => {
    await page.locator("#filter-tag").selectOption({ label: "home" });
    await eventually(async () => (await page.locator("li.task").count()) === 1, 10_000, "one task tagged home");
    assert.equal(await page.locator("li.task .task-title").innerText(), "Buy groceries");
    await page.getByText("tagged home").waitFor();
  });

  step("completes the task", async () => {
    await page.getByRole("button", { name: "Complete Buy groceries" }).click();
    await eventually(async () => (await task("Buy groceries").count()) === 0, 10_000, "the open list to drop it");
    await page.getByRole("group", { name: "Show" }).getByRole("button", { name: "Done" }).click();
    const reopen = page.getByRole("button", { name: "Reopen Buy groceries" });
    await reopen.waitFor();
    assert.equal(await reopen.getAttribute("aria-pressed"), "true");
    await shot("04-done-filtered");
    await page.getByRole("button", { name: "clear tag filter" }).click();
    await page.getByRole("group", { name: "Show" }).getByRole("button", { name: "Open" }).click();
    await task("Read a book").waitFor();
  });

  step("adds and completes a task with the keyboard only", async () => {
    await page.locator("#tasks-heading").focus();
    await tabTo(() => document.activeElement?.id === "new-task", 10, "the new task box");
    await page.keyboard.type("Pay rent");
    await page.keyboard.press("Enter");
    await task("Pay rent").waitFor();
    await tabTo(
      () => document.activeElement?.getAttribute("aria-label") === "Complete Pay rent",
      80,
      "the Pay rent complete button",
    );
    await page.keyboard.press("Enter");
    await eventually(async () => (await task("Pay rent").count()) === 0, 10_000, "Pay rent to leave the open list");
    // The focus stays in the list instead of falling back to the page.
    await eventually(
      () => page.evaluate(() => document.activeElement?.matches("button.check, #new-task") ?? false),
      5_000,
      "the focus to land on the next task",
    );
  });

  step("edits a task, then finds it by search and among the overdue", async () => {
    const item = task("Read a book");
    await item.getByRole("button", { name: "Edit Read a book" }).click();
    const editor = item.getByRole("form", { name: "Edit Read a book" });
    await editor.getByLabel("Title").fill("Read a novel");
    await editor.getByLabel("Priority").selectOption("Critical");
    const past = new Date(Date.now() - 2 * 86400_000);
    const pad = (n) => String(n).padStart(2, "0");
    await editor
      .getByLabel("Due")
      .fill(`${past.getFullYear()}-${pad(past.getMonth() + 1)}-${pad(past.getDate())}T10:00`);
    await editor.getByRole("button", { name: "home" }).click();
    await editor.getByRole("button", { name: "Save" }).click();
    const edited = task("Read a novel");
    await edited.locator(".priority", { hasText: "Critical" }).waitFor();
    assert.match(await edited.innerText(), /Overdue/);
    assert.deepEqual(await edited.locator(".chip").allInnerTexts(), ["home"]);

    await page.getByRole("searchbox").fill("novel");
    await eventually(async () => (await page.locator("li.task").count()) === 1, 10_000, "one search result");
    await page.getByRole("searchbox").fill("");
    await page.getByRole("group", { name: "Show" }).getByRole("button", { name: "Overdue" }).click();
    await eventually(async () => (await page.locator("li.task").count()) === 1, 10_000, "one overdue task");
    await task("Read a novel").waitFor();
    await page.locator("#filter-sort").selectOption("priority");
    await page.getByRole("group", { name: "Show" }).getByRole("button", { name: "Open" }).click();
    await shot("05-edited-overdue");
  });

  step("creates a daily template and previews it", async () => {
    await go("Recurring");
    await page.getByLabel("Title", { exact: true }).fill("Water the plants");
    assert.ok(await page.getByRole("radio", { name: "Daily" }).isChecked());
    const preview = page.getByRole("list", { name: "Preview of the next occurrences" });
    await eventually(async () => (await preview.locator("li").count()) === 5, 10_000, "five previewed occurrences");
    await page.getByRole("button", { name: "Create template" }).click();
    const row = page.locator("li.template", { hasText: "Water the plants" });
    await row.waitFor();
    assert.match(await row.innerText(), /Every day at 09:00/);
    await row.getByRole("button", { name: "Preview Water the plants" }).click();
    const own = page.getByRole("list", { name: "Next occurrences of Water the plants" });
    await eventually(async () => (await own.locator("li").count()) === 5, 10_000, "the template's preview");
    await shot("06-recurring");
    await audit("recurring");
    await row.getByRole("button", { name: "Disable Water the plants" }).click();
    await row.getByRole("button", { name: "Enable Water the plants" }).waitFor();
  });

  step("previews weekly on chosen days", async () => {
    await page.getByRole("radio", { name: "Weekly" }).check({ force: true });
    const days = page.getByRole("group", { name: "On these days" });
    for (const day of ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]) {
      const box = days.getByRole("checkbox", { name: day });
      if ((await box.isChecked()) !== (day === "Tue" || day === "Thu")) await box.click();
    }
    const preview = page.getByRole("list", { name: "Preview of the next occurrences" });
    await eventually(
      async () => {
        const lines = await preview.locator("li").allInnerTexts();
        return lines.length === 5 && lines.every((line) => /^(Tue|Thu),/.test(line));
      },
      10_000,
      "five Tuesdays and Thursdays",
    );
  });

  step("shows a 422 from the API in words", async () => {
    await page.getByRole("radio", { name: "Custom (cron)" }).check({ force: true });
    await page.getByLabel(/Cron expression/).fill("61 25 * * *");
    const form = page.getByRole("form", { name: "New recurring template" });
    await eventually(async () => (await form.locator(".error:not([hidden])").count()) > 0, 10_000, "the preview error");
    const words = await alertText(form);
    assert.match(words, /cron/i, words);
    assert.doesNotMatch(words, /^\d{3}$|undefined|\[object/);
    console.log(`# 422 shown as: ${words}`);
    await shot("07-recurring-error");
  });

  step("adds a task through the assistant, whose history survives a reload", async () => {
    await go("Tasks");
    await page.getByRole("button", { name: "Assistant", exact: true }).click();
    await page.locator("#chat-input").fill("add call mom tomorrow");
    await page.keyboard.press("Enter");
    await page.locator(".message.assistant").first().waitFor({ timeout: 20_000 });
    await page.locator("li.task .task-title", { hasText: /call mom/i }).waitFor({ timeout: 10_000 });
    const item = page.locator("li.task", { hasText: /call mom/i });
    assert.match(await item.innerText(), /Due/);
    await shot("08-assistant");
    await audit("assistant");

    await page.reload();
    const messages = page.getByRole("list", { name: "Conversation" });
    await messages.locator(".message.user", { hasText: "add call mom tomorrow" }).waitFor();
    await messages.locator(".message.assistant").first().waitFor();
  });

  step("shows the notification for the created task", async () => {
    await go("Notifications");
    const rows = page.locator("table.deliveries tbody tr", { hasText: "Task created" });
    const fromChat = rows.filter({ hasText: /New task: call mom/i });
    await eventually(
      async () => {
        await page.getByRole("button", { name: "Refresh" }).click();
        await page.waitForTimeout(500);
        return (await rows.locator(".status-sent").count()) >= 4 && (await fromChat.locator(".status-sent").count()) === 1;
      },
      90_000,
      "a sent notice for each of the four tasks created, the assistant's among them",
    );
    const text = await fromChat.innerText();
    assert.match(text, /email/);
    assert.match(text, /mailbox/);
    await page.getByLabel("Email address").fill("person@example.com");
    await page.getByRole("checkbox", { name: "Task completed" }).uncheck();
    await page.getByRole("button", { name: "Save preferences" }).click();
    await page.getByRole("status").getByText("Saved.").waitFor();
    await shot("09-notifications");
    await audit("notifications");
  });

  step("fits a phone-sized screen", async () => {
    const chat = page.getByRole("button", { name: "Assistant", exact: true });
    if ((await chat.getAttribute("aria-expanded")) === "true") await chat.click();
    await page.setViewportSize({ width: 390, height: 844 });
    await go("Tasks");
    await task("Read a novel").waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    await shot("10-phone-tasks");
    await page.emulateMedia({ colorScheme: "dark" });
    await audit("tasks, dark, phone");
    await shot("10-phone-tasks-dark");
    await page.emulateMedia({ colorScheme: "light" });
    await chat.click();
    await page.getByRole("list", { name: "Conversation" }).waitFor();
    await shot("11-phone-assistant");
    await page.getByRole("button", { name: "Close the assistant" }).click();
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  step("renames, recolours and deletes tags", async () => {
    await go("Tags");
    const errands = page.getByRole("form", { name: "Tag errands" });
    await errands.getByLabel("Name of errands").fill("chores");
    await errands.getByRole("button", { name: "Rename" }).click();
    const chores = page.getByRole("form", { name: "Tag chores" });
    await chores.waitFor();
    await page.getByRole("form", { name: "Tag home" }).getByLabel("Colour of home").fill("#ef4444");
    await go("Tasks");
    await eventually(
      async () => (await task("Read a novel").locator(".chip").getAttribute("style"))?.includes("rgb(239, 68, 68)"),
      10_000,
      "the recoloured chip",
    );
    await go("Tags");
    const row = page.getByRole("form", { name: "Tag chores" });
    await row.getByRole("button", { name: "Delete tag chores" }).click();
    await row.getByRole("button", { name: "Really delete? tag chores" }).click();
    await eventually(async () => (await page.getByRole("form", { name: "Tag chores" }).count()) === 0, 10_000, "the tag gone");
  });

  step("deletes a task only when asked twice", async () => {
    await go("Tasks");
    const item = task("Read a novel");
    const remove = item.getByRole("button", { name: "Delete Read a novel" });
    await remove.click();
    await page.keyboard.press("Escape");
    await remove.waitFor();
    assert.equal(await task("Read a novel").count(), 1);
    await remove.click();
    await item.getByRole("button", { name: "Really delete? Read a novel" }).click();
    await eventually(async () => (await task("Read a novel").count()) === 0, 10_000, "the task gone");
  });

  step("says in words why signing up an existing user fails", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("tab", { name: "Sign up" }).click();
    await page.getByLabel("Username").fill(user);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    const alert = page.getByRole("alert").filter({ hasText: /\w/ });
    await alert.waitFor();
    assert.equal((await alert.innerText()).trim(), "That username is taken.");
    await shot("12-sign-up-taken");
    await audit("sign-up error");

    await page.getByRole("tab", { name: "Log in" }).click();
    await page.getByLabel("Username").fill(user);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Log in" }).click();
    await eventually(async () => /password/i.test(await alertText(page)), 10_000, "the login error");
    console.log(`# 401 shown as: ${await alertText(page)}`);
  });

  step("has no serious accessibility problems on any screen", async () => {
    const problems = [...accessibility].flatMap(([screen, found]) => found.map((line) => `${screen}: ${line}`));
    console.log(`# accessibility: ${accessibility.size} screens checked, ${problems.length} serious problems`);
    assert.deepEqual(problems, []);
  });
});
