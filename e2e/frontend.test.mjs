// A frontend on another origin calls the API from a real browser: CORS
// preflight, the Authorization header and exposed headers, list/create/
// update (with a conflict)/delete, and a page on an origin that is not
// allowed being blocked.
//
// No request routing anywhere in this file: while Playwright routes
// requests it answers CORS preflights itself, so a routed context would pass
// whatever the API's CORS policy is. The API's own request log is checked
// to show the preflights reached it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";

import { allStarted, launchBrowser, root, serveStatic, startStack } from "./stack.mjs";

const sampleTitles = [
  "Sunny loft near the park", "Family house with garden", "Studio downtown",
  "Craftsman bungalow", "Waterfront condo",
];

describe("a frontend on another origin", { timeout: 120_000 }, () => {
  let stack, api, browser, allowed, other, token;

  before(async () => {
    const files = { "/examples/": join(root, "examples"), "/": join(root, "e2e", "frontend") };
    await allStarted([startStack(), serveStatic(files), serveStatic(files), launchBrowser()],
      (v) => ([stack, allowed, other, browser] = v));
    api = await stack.startAPI({ ALLOWED_ORIGIN: `https://app.example.com,${allowed.origin}` });
    token = await api.token("user-1");
  });

  after(async () => {
    await browser?.close();
    await Promise.all([stack?.stop(), allowed?.close(), other?.close()]);
  });

  /** Opens the frontend page of origin, pointed at target with the token. */
  async function openFrontend(origin, target = api) {
    const page = await browser.context.newPage();
    await page.goto(`${origin}/index.html`);
    await page.waitForFunction(() => window.app);
    await page.evaluate((opts) => window.app.configure(opts), { endpoint: target.url, token });
    return page;
  }

  /** Request log lines of api logged since mark (an index into them). */
  const since = (target, mark) => target.requests().slice(mark);

  test("an allowed origin lists, creates, updates through a conflict and deletes", async () => {
    const mark = api.requests().length;
    const page = await openFrontend(allowed.origin);
    const r = await page.evaluate(() => window.app.runFlow());
    assert.equal(r.ok, true, `flow failed: ${JSON.stringify(r.error)}`);

    // What the page shows.
    assert.match(await page.locator("#status").innerText(), /^Done: created, updated and deleted /);
    const listed = await page.locator("#listings").innerText();
    assert.ok(sampleTitles.some((t) => listed.includes(t)), `listing shows no sample property:\n${listed}`);

    // What the API answered.
    assert.ok(r.listed.length > 0);
    assert.match(r.requestId, /^frontend-ListProperties-/, "X-Request-Id is not readable: is it an exposed header?");
    assert.equal(r.created.version, 1);
    assert.equal(r.got.id, r.created.id);
    assert.equal(r.updated.price, 340000);
    assert.equal(r.updated.version, 2);
    assert.equal(r.firstConflict, null);
    assert.equal(r.conflict?.currentVersion, 2, "the stale save did not meet a CONFLICT with currentVersion");
    assert.equal(r.conflict.current.price, 340000);
    assert.equal(r.final.version, 3);
    assert.equal(r.final.title, "Loft, price reduced");
    assert.equal(r.final.price, 340000);
    assert.equal(r.deletedId, r.created.id);
    assert.equal(r.afterDelete, null);

    // The browser sent real preflights, and the API answered them.
    const log = since(api, mark).filter((l) => l.path === "/graphql");
    const preflights = log.filter((l) => l.method === "OPTIONS");
    assert.ok(preflights.length > 0, "no CORS preflight reached the API");
    for (const p of preflights) assert.ok(p.status < 300, `preflight answered ${p.status}`);
    const ops = log.filter((l) => l.method === "POST").map((l) => l.operation);
    for (const op of ["ListProperties", "CreateProperty", "GetProperty", "UpdateProperty", "DeleteProperty"]) {
      assert.ok(ops.includes(op), `${op} did not reach the API (saw ${ops})`);
    }
    // The token arrived: the create is logged with its caller.
    assert.equal(log.find((l) => l.operation === "CreateProperty")?.caller, "user-1");
    await page.close();
  });

  test("an origin that is not allowed is blocked by the browser", async () => {
    const mark = api.requests().length;
    const page = await openFrontend(other.origin);
    const r = await page.evaluate(() => window.app.runFlow());
    assert.equal(r.ok, false, "a page on an origin not in ALLOWED_ORIGIN reached the API");
    assert.equal(r.error.name, "TypeError", `want fetch to reject with TypeError, got ${JSON.stringify(r.error)}`);
    assert.match(await page.locator("#status").innerText(), /^Failed: TypeError/);
    assert.equal(await page.locator("#listings li").count(), 0);

    // The preflight reached the API, which did not allow the origin, so the
    // browser never sent the POST.
    const log = since(api, mark).filter((l) => l.path === "/graphql");
    assert.ok(log.some((l) => l.method === "OPTIONS"), "no preflight reached the API");
    assert.deepEqual(log.filter((l) => l.method === "POST"), [], "the browser sent a POST after a refused preflight");

    // A simple request (GET, no custom header) needs no preflight: the API
    // answers it, and the browser hides the answer from the page.
    const mark2 = api.requests().length;
    const g = await page.evaluate(() => window.app.simpleGet());
    assert.equal(g.ok, false, "the page read an answer it was not allowed to");
    assert.equal(g.error.name, "TypeError");
    assert.ok(since(api, mark2).some((l) => l.method === "GET" && l.status === 200),
      "the simple GET did not reach the API");
    await page.close();
  });

  test("the same flow fails against an API whose ALLOWED_ORIGIN leaves the page out", async () => {
    // A near miss: the same port under another host name is another origin.
    const strict = await stack.startAPI({ ALLOWED_ORIGIN: allowed.origin.replace("127.0.0.1", "localhost") });
    try {
      const page = await openFrontend(allowed.origin, strict);
      const r = await page.evaluate(() => window.app.runFlow());
      assert.equal(r.ok, false, "the flow passed although the API does not allow the page's origin");
      assert.equal(r.error.name, "TypeError");
      assert.equal(strict.requests().filter((l) => l.method === "POST").length, 0);

      // And with the allowed page against the first API, the same simple
      // GET is readable: the difference is the policy, not the request.
      await page.evaluate((url) => window.app.configure({ endpoint: url }), api.url);
      const g = await page.evaluate(() => window.app.simpleGet());
      assert.equal(g.ok, true, JSON.stringify(g.error));
      assert.equal(g.body.data.__typename, "Query");
      await page.close();
    } finally {
      await strict.stop();
    }
  });
});
