// The Playground as a person uses it: GraphiQL renders, the example query in
// the first tab runs and its result shows in the result pane, and the docs
// panel lists the Query fields with their descriptions.
//
// The deployed page loads GraphiQL and React from a CDN; the local build
// (make dev, and the API these tests start) serves the very same files
// itself from node_modules, so the Playground works offline. The test
// checks that every file the page loads is the installed package's, at the
// page's version, and that its SRI hash equals the page's; the browser
// checks the hashes again when it runs them. Any request off the API's
// origin is refused (a CDN URL is answered from node_modules, should the
// page name one), so the page provably needs nothing else. (Routing is fine here: the
// Playground calls its own origin, so there is no CORS preflight for
// Playwright to answer in the API's stead; the CORS tests, in
// frontend.test.mjs, use no routing at all.)
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { allStarted, launchBrowser, resultsDir, root, sri, startStack } from "./stack.mjs";

const sampleTitles = [
  "Sunny loft near the park", "Family house with garden", "Studio downtown",
  "Craftsman bungalow", "Waterfront condo",
];

const contentTypes = { ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };

/** The <script src> and <link href> of the page, with their integrity. */
function pageAssets(html, base) {
  const decode = (s) => s.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(n))
    .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  const out = [];
  for (const [tag] of html.matchAll(/<(?:script|link)\b[^>]*>/g)) {
    const attr = (name) => {
      const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
      return m ? decode(m[1]) : undefined;
    };
    const url = attr("src") ?? attr("href");
    if (url) out.push({ url: new URL(url, base).href, integrity: attr("integrity"), crossorigin: attr("crossorigin") });
  }
  return out;
}

/**
 * The node_modules file that must be byte-identical to a CDN URL of the
 * form .../npm/<package>@<version>/<file>, after checking the installed
 * package has that version.
 */
function localCopy(url) {
  const m = /\/npm\/((?:@[^/]+\/)?[^/@]+)@([^/]+)\/(.+)$/.exec(new URL(url).pathname);
  assert.ok(m, `${url}: not a .../npm/<package>@<version>/<file> URL; the test does not know which npm file it is`);
  const [, pkg, version, file] = m;
  const dir = join(root, "node_modules", pkg);
  let installed;
  try {
    installed = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
  } catch {
    assert.fail(`${pkg} is not installed (the page loads ${pkg}@${version}): add it to package.json at exactly that version and run npm ci`);
  }
  assert.equal(installed, version,
    `node_modules has ${pkg}@${installed} but the page loads ${pkg}@${version}: pin the same version in package.json`);
  return join(dir, file);
}

describe("the Playground", { timeout: 120_000 }, () => {
  let stack, api, browser, assets;
  const offOrigin = []; // requests the page made that are neither the API nor a served asset

  before(async () => {
    await allStarted([startStack(), launchBrowser()], (v) => ([stack, browser] = v));
    api = await stack.startAPI({ PLAYGROUND: "true" });
    const res = await fetch(`${api.origin}/`);
    assert.equal(res.status, 200);
    assets = pageAssets(await res.text(), `${api.origin}/`);
    for (const a of assets) {
      try {
        a.body = readFileSync(localCopy(a.url));
      } catch {} // the first test says why
    }
    // Served to any page of this context from node_modules, checked below.
    await browser.context.route((url) => url.hostname !== "127.0.0.1", async (route) => {
      const url = route.request().url();
      const asset = assets.find((a) => a.url === url);
      if (!asset?.body) {
        offOrigin.push(url);
        return route.abort("blockedbyclient");
      }
      // crossorigin="anonymous" makes the browser fetch the script in CORS
      // mode (SRI across origins needs it), as the CDN allows.
      await route.fulfill({
        status: 200,
        headers: { "Content-Type": contentTypes[url.slice(url.lastIndexOf("."))], "Access-Control-Allow-Origin": "*" },
        body: asset.body,
      });
    });
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test("node_modules holds the page's CDN files byte for byte", () => {
    assert.equal(assets.length, 4, `want React, ReactDOM, GraphiQL's script and stylesheet; the page loads ${JSON.stringify(assets.map((a) => a.url))}`);
    for (const a of assets) {
      assert.equal(new URL(a.url).origin, api.origin, `${a.url}: the local build serves the page's files itself (offline)`);
      assert.match(a.integrity ?? "", /^sha256-[A-Za-z0-9+/]{43}=$/, `${a.url} has no SRI hash`);
      assert.equal(a.crossorigin, "anonymous", `${a.url}: crossorigin`);
      const file = localCopy(a.url);
      const body = readFileSync(file);
      assert.equal(sri(body), a.integrity,
        `${file} is not the file the page loads from ${a.url}: its hash is ${sri(body)}, the page expects ${a.integrity}`);
    }
  });

  /**
   * Opens the Playground at path (after setup(page), if given) and waits
   * until GraphiQL shows the example.
   */
  async function openPlayground(origin, path = "/", setup) {
    const page = await browser.context.newPage();
    // Every visit is a first visit (GraphiQL keeps tabs in localStorage,
    // and pages of one origin share it): no earlier tab or result shows.
    await page.addInitScript(() => localStorage.clear());
    await setup?.(page);
    const problems = [];
    page.on("pageerror", (err) => problems.push(err.message));
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    await page.goto(origin + path);
    await page.locator(".graphiql-query-editor").getByText("query NewestProperties").waitFor({ timeout: 20_000 })
      .catch((err) => {
        throw new Error(`GraphiQL did not render: ${err.message}\npage errors: ${problems.join("\n")}`);
      });
    return { page, problems };
  }

  /** Clicks the run button and returns the result pane's text once it has some. */
  async function runExample(page) {
    const pane = page.locator(".graphiql-response");
    // (An empty CodeMirror holds a zero-width space.)
    assert.equal((await pane.innerText()).replace(/[\s\u200b]/g, ""), "", "the result pane shows something before the run");
    await page.getByRole("button", { name: /^Execute query/ }).click();
    await page.waitForFunction(() => document.querySelector(".graphiql-response")?.innerText.includes("{"),
      null, { timeout: 20_000 });
    return pane.innerText();
  }

  /** What a person must see after running the example: sample properties, no error. */
  function assertListed(text) {
    assert.match(text, /"properties":/, `result pane:\n${text}`);
    assert.ok(sampleTitles.some((t) => text.includes(t)), `result pane shows no sample property:\n${text}`);
    assert.doesNotMatch(text, /"errors"/, `result pane shows an error:\n${text}`);
  }

  test("GraphiQL runs the example query and shows its result and the docs", async () => {
    const { page, problems } = await openPlayground(api.origin);
    // The Authorization note is in the first tab, where a person reads it.
    const editor = await page.locator(".graphiql-query-editor").innerText();
    assert.match(editor, /"Authorization": "Bearer <token>"/);

    const result = await runExample(page);
    assertListed(result);
    assert.match(result, /"hasNextPage": true/);
    const run = api.requests().filter((l) => l.operation === "NewestProperties");
    assert.equal(run.at(-1)?.status, 200, "the example query was not served by the API's /graphql");

    await page.getByRole("button", { name: "Show Documentation Explorer" }).click();
    const docs = page.locator(".graphiql-doc-explorer");
    await docs.getByText("Root Types").waitFor();
    await docs.getByRole("link", { name: "Query", exact: true }).click();
    await docs.getByText("Fields").waitFor();
    const text = await docs.innerText();
    assert.match(text, /property\(id: ID!\): Property/, `docs:\n${text}`);
    assert.match(text, /properties\(/, `docs:\n${text}`);
    assert.match(text, /One property, or null when no property has that id/, "docs lack the field descriptions");

    mkdirSync(resultsDir, { recursive: true });
    await page.screenshot({ path: join(resultsDir, "playground.png") });
    assert.deepEqual(problems, [], "the page logged errors");
    assert.deepEqual(offOrigin, [], "the page requested files nobody serves");
    await page.close();
  });

  test("behind a stage prefix the Playground calls the stage's /graphql", async () => {
    // As API Gateway with a stage: /prod/... reaches the API without the
    // prefix; anything else is not found. A page calling "/graphql" would
    // get that 404.
    const stage = (page) => page.route((url) => url.origin === api.origin, async (route) => {
      const u = new URL(route.request().url());
      // The page's own files: the deployed page loads them from the CDN;
      // this local build serves them at /playground/npm/, passed through.
      if (u.pathname.startsWith("/playground/npm/")) return route.fallback();
      const m = /^\/prod(\/.*)?$/.exec(u.pathname);
      if (!m) return route.fulfill({ status: 404, contentType: "application/json", body: '{"message":"Not Found"}' });
      const response = await route.fetch({ url: api.origin + (m[1] || "/") + u.search });
      return route.fulfill({ response });
    });
    for (const path of ["/prod", "/prod/"]) {
      const { page } = await openPlayground(api.origin, path, stage).catch((err) => {
        throw new Error(`at ${path}: ${err.message}`);
      });
      assertListed(await runExample(page));
      await page.close();
    }
  });

  test("with the API down the result pane shows the failure, not data", async () => {
    const doomed = await stack.startAPI({ PLAYGROUND: "true" });
    // The API goes down only after GraphiQL has its schema: a kill while
    // the introspection request is in flight puts that failure in the result
    // pane before anything is run.
    let introspected;
    const { page } = await openPlayground(doomed.origin, "/", (p) => {
      introspected = p.waitForResponse((r) => r.url().endsWith("/graphql") && r.request().method() === "POST",
        { timeout: 20_000 });
    });
    await introspected;
    await doomed.kill();
    const text = await runExample(page);
    assert.throws(() => assertListed(text), "the check passed with the API down");
    assert.match(text, /Failed to fetch/, `result pane:\n${text}`);
    await page.close();
  });

  test("a file whose bytes differ from the page's SRI hash is refused", async () => {
    // Shows the browser does check the hashes, so the test above proves the
    // served files are the CDN's.
    const page = await browser.context.newPage();
    const js = assets.find((a) => a.url.endsWith("/graphiql.min.js"));
    await page.route(js.url, (route) => route.fulfill({
      status: 200,
      headers: { "Content-Type": "text/javascript", "Access-Control-Allow-Origin": "*" },
      body: Buffer.concat([js.body, Buffer.from("\n")]),
    }));
    const refused = page.waitForEvent("console", { predicate: (m) => /integrity/i.test(m.text()), timeout: 20_000 });
    await page.goto(`${api.origin}/`);
    await refused;
    assert.equal(await page.locator(".graphiql-container").count(), 0, "GraphiQL rendered from a tampered file");
    await page.close();
  });
});
