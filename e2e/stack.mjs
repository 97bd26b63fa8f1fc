// What the browser tests run against, started by the tests themselves:
// DynamoDB Local (in memory, through internal/dynamolocal/cmd/dynamolocal),
// a table with the sample properties (cmd/devsetup), API servers built with
// -tags dev (so the local token issuer is on, and cmd/devtoken mints tokens
// for it), static file servers, and Chromium. Everything listens on
// 127.0.0.1 on free ports and is stopped by PID when the test file ends.
import { spawn, execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { chromium } from "playwright-core";

const run = promisify(execFile);

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const resultsDir = join(root, "test-results");

const GO = process.env.GO || "go";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const binDir = join(root, ".build", "e2e");

// Every process this file started and has not stopped yet: stopped on the
// way out even when a test throws before its cleanup ran.
const running = new Set();
process.on("exit", () => {
  for (const p of running) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {}
  }
});

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A child process with its output kept (stdout lines are parsed as JSON logs). */
class Proc {
  constructor(name, file, args, opts) {
    this.name = name;
    this.logs = [];
    this.tail = "";
    this.child = spawn(file, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], ...opts });
    this.pid = this.child.pid;
    running.add(this);
    this.exited = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        running.delete(this);
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    let buf = "";
    this.child.stdout.on("data", (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          this.logs.push(JSON.parse(line));
        } catch {
          this.keep(line + "\n");
        }
        if (process.env.E2E_LOG) process.stderr.write(`[${name}] ${line}\n`);
      }
    });
    this.child.stderr.on("data", (d) => {
      this.keep(String(d));
      if (process.env.E2E_LOG) process.stderr.write(`[${name}] ${d}`);
    });
  }

  keep(s) {
    this.tail = (this.tail + s).slice(-4000);
  }

  /**
   * Stops the process: SIGTERM to its PID, SIGKILL after graceMs (0: at
   * once, as a crash would).
   */
  async stop(graceMs = 5000) {
    if (this.exit) return this.exit;
    this.child.kill(graceMs > 0 ? "SIGTERM" : "SIGKILL");
    const t = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    const exit = await this.exited;
    clearTimeout(t);
    return exit;
  }
}

/** Builds the binaries the stack runs (cached by the go tool between runs). */
export async function build() {
  mkdirSync(binDir, { recursive: true });
  await run(GO, ["build", "-tags", "dev", "-o", binDir + sep,
    "./lambda", "./cmd/devsetup", "./cmd/devtoken", "./internal/dynamolocal/cmd/dynamolocal"],
  { cwd: root, maxBuffer: 1 << 20 }).catch((err) => {
    throw new Error(`go build failed:\n${err.stderr || err.message}`);
  });
}

/**
 * Starts DynamoDB Local and creates a fresh table with the sample
 * properties. Returns { startAPI, stop }.
 */
export async function startStack() {
  await build();
  const tmp = mkdtempSync(join(tmpdir(), "property-e2e-"));
  const engine = new Proc("dynamodb", join(binDir, "dynamolocal"), ["-q"]);
  try {
    return await prepare(tmp, engine);
  } catch (err) {
    await engine.stop();
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function prepare(tmp, engine) {
  const endpoint = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`DynamoDB Local did not start in 60s:\n${engine.tail}`)), 60_000);
    const onData = () => {
      const m = /DynamoDB Local: (http:\/\/\S+)/.exec(engine.tail);
      if (m) {
        clearTimeout(t);
        engine.child.stderr.off("data", onData);
        resolve(m[1]);
      }
    };
    engine.child.stderr.on("data", onData);
    engine.exited.then(() => {
      clearTimeout(t);
      reject(new Error(`DynamoDB Local exited:\n${engine.tail}`));
    });
  });
  const env = {
    ...process.env,
    PROPERTY_TABLE_NAME: `e2e-${randomBytes(4).toString("hex")}`,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    DYNAMODB_ENDPOINT: endpoint,
    DEV_ISSUER_KEY: join(tmp, "issuer", "key.pem"),
    LOG_LEVEL: "info",
  };
  delete env.AWS_LAMBDA_RUNTIME_API;
  delete env.AUTH_ISSUER;
  delete env.AUTH_CLIENT_ID;
  delete env.IMAGES_BUCKET;
  delete env.S3_ENDPOINT;
  await run(join(binDir, "devsetup"), [], { cwd: root, env }).catch((err) => {
    throw new Error(`devsetup failed:\n${err.stderr || err.message}`);
  });

  const apis = [];
  let n = 0;

  /**
   * Starts an API server. extraEnv sets ALLOWED_ORIGIN, PLAYGROUND, ...
   * Returns { origin, url, port, logs, token(sub, groups), stop() }.
   */
  async function startAPI(extraEnv = {}) {
    const port = await freePort();
    const s3 = join(tmp, `s3-${++n}`);
    const proc = new Proc(`api:${port}`, join(binDir, "lambda"), [], {
      env: { ...env, PORT: String(port), DEV_S3_DIR: s3, ...extraEnv },
    });
    const origin = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (proc.exit) throw new Error(`API exited (${JSON.stringify(proc.exit)}):\n${proc.tail}`);
      try {
        const res = await fetch(`${origin}/graphql?query=%7B__typename%7D`);
        if (res.ok) break;
      } catch {}
      if (Date.now() > deadline) {
        await proc.stop();
        throw new Error(`API did not answer in 30s:\n${proc.tail}`);
      }
      await sleep(50);
    }
    const api = {
      origin,
      port,
      url: `${origin}/graphql`,
      pid: proc.pid,
      logs: proc.logs,
      /** A token of this server's local issuer (its URL names the port). */
      async token(sub = "user-1", groups = "") {
        const { stdout } = await run(join(binDir, "devtoken"),
          ["-key", env.DEV_ISSUER_KEY, "-sub", sub, "-groups", groups],
          { cwd: root, env: { ...env, PORT: String(port) } });
        return stdout.trim();
      },
      /** The request log lines (one per request) logged so far. */
      requests() {
        return proc.logs.filter((l) => l.msg === "request");
      },
      stop: () => proc.stop(),
      /** Kills the server at once (SIGKILL), as a crash would. */
      kill: () => proc.stop(0),
    };
    apis.push(api);
    return api;
  }

  async function stop() {
    await Promise.all(apis.map((a) => a.stop()));
    await engine.stop();
    rmSync(tmp, { recursive: true, force: true });
  }

  return { startAPI, stop, endpoint, table: env.PROPERTY_TABLE_NAME };
}

const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".graphql": "text/plain; charset=utf-8",
};

/**
 * Serves the files under dirs ({ urlPrefix: directory }) on a free port.
 * Returns { origin, close() }.
 */
export async function serveStatic(dirs) {
  const srv = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    for (const [prefix, dir] of Object.entries(dirs)) {
      if (!path.startsWith(prefix)) continue;
      const rel = path.slice(prefix.length) || "index.html";
      const file = normalize(join(dir, rel));
      if (!file.startsWith(normalize(dir) + sep)) break;
      try {
        const body = await readFile(file);
        res.writeHead(200, { "Content-Type": types[extname(file)] || "application/octet-stream", "Cache-Control": "no-store" });
        res.end(body);
        return;
      } catch {
        break;
      }
    }
    res.writeHead(404, { "Content-Type": "text/plain" });
    res.end("not found");
  });
  await new Promise((resolve) => srv.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${srv.address().port}`,
    close: () => new Promise((resolve) => srv.close(resolve)),
  };
}

export const chromiumFlags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Launches Chromium with a fresh profile. Returns the browser context and a
 * close() that also removes the profile.
 */
export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), "property-e2e-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: chromiumFlags,
      viewport: { width: 1600, height: 1000 },
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`cannot start ${CHROMIUM} (make deps installs Debian's chromium): ${err.message}`);
  }
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Awaits all promises, then throws the first failure, so that whatever did
 * start is returned to the caller's cleanup instead of leaking (a browser
 * left open keeps the test process alive).
 */
export async function allStarted(promises, keep) {
  const results = await Promise.allSettled(promises);
  keep(results.map((r) => r.value));
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
}

/** The subresource-integrity value (sha256) of bytes. */
export function sri(bytes) {
  return "sha256-" + createHash("sha256").update(bytes).digest("base64");
}

