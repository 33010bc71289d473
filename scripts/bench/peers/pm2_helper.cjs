// A long-lived Node process that speaks pm2's programmatic API for the benchmark, so pm2 is
// measured through its own client library over its RPC socket, without a Node start per
// request. Started by pm2.ts with PM2_HOME (private, in a temporary directory) and PM2_MODULE
// (the installed pm2 package) in its environment.
//
// Protocol: one JSON request per line on stdin, `{"id":N,"op":"...",...}`; one answer per line
// on stdout, prefixed with `@@ ` so that anything else pm2 might print is told apart:
// `@@ {"id":N,"ok":true,"result":...}` or `@@ {"id":N,"ok":false,"error":"..."}`.
"use strict";

const readline = require("node:readline");

// pm2's library prints through console.log; keep stdout for answers only.
const answer = (obj) => process.stdout.write("@@ " + JSON.stringify(obj) + "\n");
console.log = (...args) => process.stderr.write(args.join(" ") + "\n");
console.info = console.log;

const pm2 = require(process.env.PM2_MODULE);

function call(fn, ...args) {
  return new Promise((resolve, reject) => {
    fn.call(pm2, ...args, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

function compact(list) {
  return list.map((p) => ({
    name: p.name,
    pid: p.pid,
    status: p.pm2_env && p.pm2_env.status,
  }));
}

const ops = {
  async start(req) {
    const procs = await call(pm2.start, { apps: req.apps });
    return procs.length;
  },
  async restart(req) {
    await call(pm2.restart, req.name);
    return null;
  },
  async stop(req) {
    await call(pm2.stop, req.name);
    return null;
  },
  async list() {
    return compact(await call(pm2.list));
  },
  async bytes() {
    return Buffer.byteLength(JSON.stringify(await call(pm2.list)));
  },
  async timeList(req) {
    const times = [];
    let deadline = Infinity;
    for (let i = 0; i < req.warmup + req.n && performance.now() < deadline; i++) {
      if (i === req.warmup) deadline = performance.now() + req.budgetMs;
      const t0 = performance.now();
      await call(pm2.list);
      const t1 = performance.now();
      if (i >= req.warmup) times.push(t1 - t0);
    }
    return times;
  },
  exit() {
    pm2.disconnect();
    setImmediate(() => process.exit(0));
    return null;
  },
};

pm2.connect((err) => {
  if (err) {
    answer({ id: 0, ok: false, error: String(err && err.message || err) });
    process.exit(1);
  }
  answer({ id: 0, ok: true, result: "connected" });
  const lines = readline.createInterface({ input: process.stdin });
  lines.on("line", async (line) => {
    let req;
    try {
      req = JSON.parse(line);
      const op = ops[req.op];
      if (!op) throw new Error(`unknown op ${req.op}`);
      answer({ id: req.id, ok: true, result: await op(req) });
    } catch (error) {
      answer({ id: req ? req.id : -1, ok: false, error: String(error && error.message || error) });
    }
  });
  lines.on("close", () => {
    pm2.disconnect();
    process.exit(0);
  });
});
