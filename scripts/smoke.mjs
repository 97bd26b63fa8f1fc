#!/usr/bin/env node
// Smoke test of a deployed API: `node scripts/smoke.mjs <url>`, where url is
// the stack's HttpApiUrl (or the endpoint itself, ending in /graphql).
// It asks `{ __typename }` and one `properties` page, and exits non-zero
// unless both answer 200 with data and no errors. A fresh deployment can
// take a few seconds to answer, so each check is tried SMOKE_ATTEMPTS times
// (default 5), SMOKE_DELAY_MS apart (default 3000), each request limited to
// SMOKE_TIMEOUT_MS (default 10000). With SMOKE_ORIGIN set, the answers must
// also allow that browser origin (CORS).
const [, , base] = process.argv;
if (!base) {
  console.error('usage: node scripts/smoke.mjs <HttpApiUrl>');
  process.exit(2);
}
const endpoint = base.replace(/\/+$/, '').replace(/(\/graphql)?$/, '/graphql');
const num = (name, def) => {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`smoke: ${name} must be a whole number, not ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
};
const attempts = Math.max(1, num('SMOKE_ATTEMPTS', 5));
const delay = num('SMOKE_DELAY_MS', 3000);
const timeout = Math.max(1, num('SMOKE_TIMEOUT_MS', 10000));
const origin = process.env.SMOKE_ORIGIN || '';

const checks = [
  {
    name: '{ __typename }',
    query: '{ __typename }',
    ok: (data) => data.__typename === 'Query',
  },
  {
    name: 'one properties page',
    query: 'query Smoke { properties(first: 1) { edges { cursor node { id } } pageInfo { hasNextPage } } }',
    ok: (data) => Array.isArray(data.properties?.edges) && typeof data.properties?.pageInfo?.hasNextPage === 'boolean',
  },
];

// once runs one check once and returns why it failed, or '' when it passed.
async function once(check) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (origin) headers.Origin = origin;
  let res;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: check.query }),
      signal: AbortSignal.timeout(timeout),
    });
  } catch (e) {
    return `no answer: ${e.cause?.code || e.name}: ${e.message}`;
  }
  const text = await res.text().catch(() => '');
  const id = res.headers.get('x-request-id');
  const where = id ? ` (request ${id})` : '';
  if (res.status !== 200) return `HTTP ${res.status}${where}: ${text.slice(0, 300)}`;
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return `not JSON${where}: ${text.slice(0, 300)}`;
  }
  if (body.errors?.length) return `errors${where}: ${JSON.stringify(body.errors).slice(0, 300)}`;
  if (!body.data || !check.ok(body.data)) return `unexpected data${where}: ${JSON.stringify(body.data).slice(0, 300)}`;
  if (origin && res.headers.get('access-control-allow-origin') !== origin) {
    return `origin ${origin} not allowed${where} (Access-Control-Allow-Origin: ${res.headers.get('access-control-allow-origin')})`;
  }
  return '';
}

let failed = false;
for (const check of checks) {
  let why = '';
  for (let i = 1; i <= attempts; i++) {
    why = await once(check);
    if (!why) break;
    console.error(`smoke: ${check.name}: attempt ${i}/${attempts}: ${why}`);
    if (i < attempts) await new Promise((r) => setTimeout(r, delay));
  }
  if (why) {
    console.error(`smoke: FAIL ${check.name} at ${endpoint}`);
    failed = true;
  } else {
    console.log(`smoke: ok ${check.name} at ${endpoint}`);
  }
}
process.exit(failed ? 1 : 0);
