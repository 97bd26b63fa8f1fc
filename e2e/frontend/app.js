// A minimal frontend: plain fetch, the operations from examples/, a bearer
// token, and the conflict handling a real form needs. The browser tests set
// the API's URL and the token with app.configure() and run app.runFlow().

let endpoint = "";
let token = "";

const documents = new Map();

/** The text of examples/<name>.graphql, served next to this page. */
async function operation(name) {
  if (!documents.has(name)) {
    const res = await fetch(`/examples/${name}.graphql`);
    if (!res.ok) throw new Error(`examples/${name}.graphql: HTTP ${res.status}`);
    documents.set(name, await res.text());
  }
  return documents.get(name);
}

/** An error the API answered with, code from extensions.code. */
class GraphQLError extends Error {
  constructor(error) {
    super(error.message);
    this.name = "GraphQLError";
    this.code = error.extensions?.code;
    this.extensions = error.extensions ?? {};
  }
}

/**
 * POSTs one operation from examples/ and returns its data, throwing a
 * GraphQLError for the first error in the answer. A CORS refusal or an
 * unreachable API makes fetch itself reject with a TypeError.
 */
async function graphql(name, variables) {
  const headers = { "Content-Type": "application/json", "X-Request-Id": `frontend-${name}-${Date.now()}` };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(endpoint, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: await operation(name), operationName: name, variables }),
  });
  const body = await res.json();
  // X-Request-Id is only readable cross-origin because the API exposes it.
  step(`${name}: HTTP ${res.status}, request id ${res.headers.get("X-Request-Id")}`);
  if (body.errors?.length) throw new GraphQLError(body.errors[0]);
  return { data: body.data, requestId: res.headers.get("X-Request-Id") };
}

/**
 * Saves a change made against `version`. On CONFLICT (someone saved in
 * between) it re-applies the change on top of the stored version, once,
 * as a form would after telling the user.
 */
async function saveChange(id, version, change) {
  try {
    const { data } = await graphql("UpdateProperty", { input: { id, expectedVersion: version, ...change } });
    return { property: data.updateProperty.property, conflict: null };
  } catch (err) {
    if (err.code !== "CONFLICT") throw err;
    const { currentVersion, current } = err.extensions;
    step(`conflict: stored version ${currentVersion} (price ${current.price}); re-applying`);
    const { data } = await graphql("UpdateProperty", { input: { id, expectedVersion: currentVersion, ...change } });
    return { property: data.updateProperty.property, conflict: { currentVersion, current } };
  }
}

function step(text) {
  const li = document.createElement("li");
  li.textContent = text;
  document.getElementById("steps").append(li);
}

function setStatus(text, failed = false) {
  const el = document.getElementById("status");
  el.textContent = text;
  el.className = failed ? "failed" : "";
}

function showListings(edges) {
  const ul = document.getElementById("listings");
  ul.replaceChildren(...edges.map(({ node }) => {
    const li = document.createElement("li");
    li.textContent = `${node.title} (${node.city}, ${node.state}): ${node.price}`;
    return li;
  }));
}

/** list, create, get, update, a stale update (conflict), delete. */
async function runFlow() {
  setStatus("Working…");
  const out = {};
  try {
    const list = await graphql("ListProperties", { first: 5 });
    showListings(list.data.properties.edges);
    out.listed = list.data.properties.edges.map((e) => e.node.title);
    out.requestId = list.requestId;

    const created = await graphql("CreateProperty", {
      input: {
        clientMutationId: crypto.randomUUID(),
        title: "Loft seen from another origin",
        description: "Created by the browser test's frontend page.",
        price: 350000, address: "1 Test Way", city: "Springfield", state: "IL", zip: "62701",
      },
    });
    const property = created.data.createProperty.property;
    out.created = property;

    const got = await graphql("GetProperty", { id: property.id });
    out.got = got.data.property;

    // Two tabs edit the same version: the first save wins...
    const first = await saveChange(property.id, property.version, { price: 340000 });
    // ...the second meets a CONFLICT and is re-applied on top of it.
    const second = await saveChange(property.id, property.version, { title: "Loft, price reduced" });
    out.updated = first.property;
    out.firstConflict = first.conflict;
    out.conflict = second.conflict;
    out.final = second.property;

    const deleted = await graphql("DeleteProperty", { input: { id: property.id, expectedVersion: second.property.version } });
    out.deletedId = deleted.data.deleteProperty.deletedId;
    const gone = await graphql("GetProperty", { id: property.id });
    out.afterDelete = gone.data.property;

    setStatus(`Done: created, updated and deleted ${property.id}.`);
    return { ok: true, ...out };
  } catch (err) {
    setStatus(`Failed: ${err.name}: ${err.message}`, true);
    return { ok: false, error: { name: err.name, message: err.message, code: err.code }, ...out };
  }
}

/** A query sent as a "simple" cross-origin request (GET, no custom headers): no preflight. */
async function simpleGet() {
  try {
    const res = await fetch(`${endpoint}?query=${encodeURIComponent("{ __typename }")}`);
    return { ok: true, status: res.status, body: await res.json() };
  } catch (err) {
    return { ok: false, error: { name: err.name, message: err.message } };
  }
}

window.app = {
  configure(opts) {
    endpoint = opts.endpoint;
    token = opts.token ?? "";
  },
  runFlow,
  simpleGet,
};
