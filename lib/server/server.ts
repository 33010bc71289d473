/**
 * A whole server: config, supervisor, control port and startup, put together and taken down.
 *
 * Owns: the order of boot (read config, validate `full` mode, bind, start children, serve) and
 * of shutdown (stop accepting, stop every child gracefully, drain their output). Does not own:
 * signals or the terminal; the entry point wires those.
 *
 * @module
 */
import { resolve } from "node:path";
import { ConfigStore } from "../config/store.ts";
import { namedIdentity, readAccounts, readServerIdentity } from "../config/users.ts";
import type { ServerConfig } from "../config/server_config.ts";
import { describeError, SupervisorError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { SYNC_WRITES } from "../process/sync_writes.ts";
import type { ChildDeps } from "../process/child.ts";
import type { Terminal } from "../process/child_outputs.ts";
import { realClock } from "../process/clock.ts";
import type { Clock } from "../process/clock.ts";
import { GroupReaper } from "../process/group_reaper.ts";
import { probeProcessTable, systemProcessTable } from "../process/process_group.ts";
import type { GroupProbe } from "../process/process_group.ts";
import { denoSpawner } from "../process/spawner.ts";
import type { Spawner } from "../process/spawner.ts";
import { Authenticator } from "../auth/authenticator.ts";
import { KeyStore } from "../auth/key_store.ts";
import { AuditLog } from "./audit_log.ts";
import { serveLegacy } from "./legacy_connection.ts";
import type { LegacyContext } from "./legacy_connection.ts";
import { RequestPipeline } from "./request_pipeline.ts";
import type { Outcome } from "./outcome.ts";
import { ControlListener, isLoopback } from "./listener.ts";
import { describeConfigChanges } from "./reload.ts";
import { planStartup } from "./startup.ts";
import type { StartupPlan } from "./startup.ts";
import { bindControlSocket, removeControlSocket } from "./control_socket.ts";
import { AdoptionWatch } from "../process/adopted_process.ts";
import { identify, stillAlive } from "../process/proc_identity.ts";
import { adoptRuns } from "./adoption.ts";
import { defaultStatePath, prepareStateDir, StateFile } from "./state_file.ts";
import type { ServerState } from "./state_file.ts";
import { StateRecorder } from "./state_recorder.ts";
import type { Handlers } from "./connection.ts";
import { Supervisor } from "./supervisor.ts";
import { ChildEvents } from "./child_events.ts";
import { RequestStats } from "./request_stats.ts";
import { ResourceWatch } from "./resource_watch.ts";
import type { Sampler } from "./resource_monitor.ts";
import { checkReport, infoReport } from "./status_report.ts";
import type { ServerFacts } from "./status_report.ts";
import { encodeResult } from "../protocol/payloads.ts";
import type { CheckData, InfoData } from "../protocol/payloads.ts";
import { HttpEndpoint } from "../web/http_server.ts";
import type { WebHost } from "../web/http_server.ts";
import { HttpAuth } from "../web/http_auth.ts";
import { renderMetrics } from "../web/prometheus.ts";
import { VERSION } from "../version.ts";

/** HTTP connections allowed beside the event streams (`limits.max_follows`). */
const HTTP_SPARE_CONNECTIONS = 64;

/** What the server needs from its surroundings. */
export interface ServerIo {
  readonly logger: Logger;
  readonly terminal: Terminal;
  readonly spawner?: Spawner;
  readonly clock?: Clock;
  readonly groupProbe?: GroupProbe;
  /** Reads CPU and memory from /proc (a fake one in tests). */
  readonly sampler?: Sampler;
}

/** A booted server. */
export class Server {
  readonly config: ServerConfig;
  readonly #store: ConfigStore;
  readonly #supervisor: Supervisor;
  #lastConfig: ServerConfig;
  readonly #keys: KeyStore;
  readonly #pipeline: RequestPipeline;
  readonly #listener: ControlListener;
  /** The local control socket, when server.yml has `control_socket`. */
  readonly #local: ControlListener | undefined;
  readonly #plan: StartupPlan;
  readonly #recorder: StateRecorder | undefined;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #events: ChildEvents;
  readonly #resources: ResourceWatch;
  readonly #stats = new RequestStats();
  readonly #facts: ServerFacts;
  /** The status page, /metrics and the JSON API, when server.yml has `http_listen`. */
  #http: HttpEndpoint | undefined;
  #httpNote = "";
  /** Whether the log said already that old clients are refused. */
  #warnedLegacy = false;
  #stopped: Promise<void> | undefined;
  #resolveDone!: () => void;
  readonly #done = new Promise<void>((resolve) => (this.#resolveDone = resolve));

  private constructor(parts: {
    readonly supervisor: Supervisor;
    readonly store: ConfigStore;
    readonly config: ServerConfig;
    readonly listener: ControlListener;
    readonly local: ControlListener | undefined;
    readonly plan: StartupPlan;
    readonly recorder: StateRecorder | undefined;
    readonly logger: Logger;
    readonly clock: Clock;
    readonly events: ChildEvents;
    readonly resources: ResourceWatch;
  }) {
    this.#recorder = parts.recorder;
    const { supervisor, store, config, listener, logger, clock } = parts;
    this.#clock = clock;
    this.#events = parts.events;
    this.#resources = parts.resources;
    this.#facts = {
      pid: Deno.pid,
      startedAt: clock.now(),
      listen: () => listener.address,
      encrypt: config.encrypt,
    };
    this.#local = parts.local;
    this.#plan = parts.plan;
    this.#supervisor = supervisor;
    this.#store = store;
    this.config = config;
    this.#lastConfig = config;
    this.#keys = new KeyStore();
    this.#listener = listener;
    this.#logger = logger;
    this.#pipeline = new RequestPipeline({
      ops: {
        supervisor,
        clock,
        facts: this.#facts,
        events: parts.events,
        resources: parts.resources,
      },
      auth: new Authenticator({
        encrypt: config.encrypt,
        maxNonces: config.limits.maxNonces,
        keys: this.#keys,
        clock,
      }),
      audit: new AuditLog(logger, clock),
      store,
      logger,
      stats: this.#stats,
    });
  }

  /**
   * Reads the config, validates children in `full` mode (planning what starts), binds the
   * control port and the control socket. Starts nothing: {@link startChildren} does, once the
   * caller has its signal handlers in place. Throws a ConfigError or the bind error; nothing is
   * left bound then.
   */
  static async boot(configPath: string, io: ServerIo): Promise<Server> {
    const clock = io.clock ?? realClock;
    // A child file naming another user is refused at config check when the server is not root.
    const identity = await readServerIdentity()
      .then(async (ids) => namedIdentity(ids, await readAccounts()))
      .catch(() => undefined);
    const store = new ConfigStore(resolve(configPath), {
      clock,
      childContext: { server: identity },
    });
    const config = await store.serverConfig();
    SYNC_WRITES.enabled = config.syncLogWrites;
    const plan = await planStartup(store, config);
    const state = await openState(store.serverPath, config, io.logger);
    const deps: ChildDeps = {
      spawner: io.spawner ?? denoSpawner,
      clock,
      terminal: io.terminal,
      logger: io.logger,
      reaper: new GroupReaper(
        io.groupProbe ? probeProcessTable(io.groupProbe) : systemProcessTable(),
        clock,
      ),
    };
    const listener = ControlListener.bind(
      { transport: "tcp", hostname: config.listenerAddr, port: config.listenerPort },
      config.limits,
      io.logger,
    );
    let local: ControlListener | undefined;
    if (config.controlSocket !== undefined) {
      try {
        const path = config.controlSocket;
        local = ControlListener.of(await bindControlSocket(path), { transport: "unix", path }, {
          options: config.limits,
          logger: io.logger,
        });
      } catch (error) {
        listener.close();
        throw error;
      }
    }
    const adoption = new AdoptionWatch(clock);
    const events = new ChildEvents({ maxFollowers: config.limits.maxFollows });
    // deno-lint-ignore prefer-const
    let supervisor: Supervisor;
    const resources = new ResourceWatch({
      clock,
      logger: io.logger,
      periodMs: config.sampleIntervalMs,
      children: () => supervisor.children(),
      ...(io.sampler ? { sampler: io.sampler } : {}),
    });
    supervisor = new Supervisor(store, deps, {
      adoption,
      registered: (child) => {
        state?.recorder.watch(child);
        events.watch(child);
        child.onStateChange(() => resources.changed());
      },
      resources: (name) => resources.latest(name),
    });
    if (state?.previous) {
      await adoptRuns(state.previous, {
        supervisor,
        snap: store.snapshot(),
        watch: adoption,
        clock,
        logger: io.logger,
      });
    }
    await state?.recorder.record();
    const server = new Server({
      supervisor,
      store,
      config,
      listener,
      local,
      plan,
      recorder: state?.recorder,
      logger: io.logger,
      clock,
      events,
      resources,
    });
    if (config.http) {
      try {
        await server.#serveHttp(config.http, config.limits.maxFollows);
      } catch (error) {
        listener.close();
        local?.close();
        resources.close();
        throw error;
      }
    }
    if (!config.encrypt && !isLoopback(config.listenerAddr)) {
      io.logger.warn(
        `listening on ${listener.address}, beyond loopback, with encrypt off: anyone who can reach this port can start, stop and kill children. Set listener_addr: 127.0.0.1, or encrypt: on`,
      );
    }
    if (config.encrypt && config.legacy) {
      io.logger.warn(
        "legacy: on with encrypt: on accepts supervisor-rs signed commands, which carry no nonce or time: anyone who captures one can replay it, forever. Turn legacy off once every client uses supervisor-ts-client",
      );
    }
    for (const warning of plan.warnings) io.logger.warn(warning);
    return server;
  }

  /**
   * Starts the children of the startup plan (`half`, `full`). A shutdown that begins meanwhile
   * stops those already started and refuses the rest.
   */
  async startChildren(): Promise<void> {
    const snap = this.#store.snapshot();
    // A child adopted from a killed predecessor runs already: never a second copy.
    // A child with instances starts as its copies.
    const planned = (await Promise.all(
      this.#plan.names.map((name) => this.#supervisor.expand(name, snap)),
    )).flat();
    const adopted = planned.filter((name) => this.#supervisor.isLive(name));
    for (const name of adopted) this.#logger.info(`startup: "${name}" runs already (adopted)`);
    const names = planned.filter((name) => !adopted.includes(name));
    let layers: string[][];
    try {
      layers = await this.#supervisor.startLayers(names, snap);
    } catch (error) {
      this.#logger.error(`startup: nothing started: ${describeError(error)}`);
      return;
    }
    // In dependency order: a layer starts once the layers before it count as started.
    const ordered = layers.length > 1;
    for (const layer of layers) {
      const todo = layer.filter((name) => !this.#supervisor.isLive(name));
      const results = await Promise.allSettled(
        todo.map((name) => this.#supervisor.start(name, { snap, wait: ordered })),
      );
      results.forEach((result, i) => this.#logStartup(todo[i]!, result));
    }
    // Adopted children and those just started: sampled from now on if they have a max_memory.
    this.#resources.changed();
  }

  #logStartup(name: string, result: PromiseSettledResult<unknown>): void {
    const reason: unknown = result.status === "rejected" ? result.reason : undefined;
    if (reason instanceof SupervisorError && reason.code === "ALREADY_RUNNING") {
      // A prehook of a child planned too (`prehook: start b`) started it first: as planned.
      this.#logger.info(`startup: "${name}" already started by a prehook`);
    } else if (result.status === "rejected") {
      this.#logger.error(`startup: ${describeError(reason)}`);
    } else {
      this.#logger.info(`startup: started "${name}"`);
    }
  }

  /** Starts the HTTP endpoint; throws when the token file is unusable or the port is taken. */
  async #serveHttp(http: NonNullable<ServerConfig["http"]>, maxStreams: number): Promise<void> {
    const auth = await HttpAuth.load(http.tokenFile, this.#clock);
    try {
      this.#http = await HttpEndpoint.start(this.#webHost(), {
        hostname: http.hostname,
        port: http.port,
        auth,
        actions: http.actions,
        maxStreams,
        // Every page stream may be open, and some room beside them for scrapes and API calls.
        maxConnections: maxStreams + HTTP_SPARE_CONNECTIONS,
      });
    } catch (error) {
      throw new Error(`http_listen ${http.hostname}:${http.port}: ${describeError(error)}`, {
        cause: error,
      });
    }
    this.#httpNote = `${auth.required ? " (token required)" : ""}${
      http.actions ? " with actions" : ""
    }`;
  }

  /** What the HTTP endpoint shows and acts on. */
  #webHost(): WebHost {
    const pipeline = this.#pipeline;
    return {
      run: (request, peer) =>
        pipeline.run(
          request,
          { peer, dialect: "http", key: null },
          pipeline.snapshot(RequestPipeline.reads(request.op)),
        ),
      metrics: async () => {
        await this.#resources.demand();
        const { check, info } = await this.#status();
        return renderMetrics({
          children: check.children,
          info,
          requests: this.#stats.counts(),
          // The control port's and the control socket's; HTTP's own are not counted here.
          connections: {
            open: this.#listener.connections + (this.#local?.connections ?? 0),
            accepted: this.#listener.accepted + (this.#local?.accepted ?? 0),
          },
          build: {
            version: VERSION,
            deno: Deno.version.deno,
            v8: Deno.version.v8,
            typescript: Deno.version.typescript,
          },
        });
      },
      status: () => this.#status(),
      changes: this.#events,
      resources: this.#resources,
      logger: this.#logger,
    };
  }

  /** `check` and `info` as their responses carry them, outside the request pipeline. */
  async #status(): Promise<{ check: CheckData; info: InfoData }> {
    const snap = this.#store.statusSnapshot();
    const now = this.#clock.now();
    const [checked, informed] = await Promise.all([
      checkReport(this.#supervisor, snap, { name: undefined, now }),
      infoReport(this.#supervisor, snap, { facts: this.#facts, now }),
    ]);
    return {
      check: encodeResult(checked) as CheckData,
      info: encodeResult(informed) as InfoData,
    };
  }

  /** Whether shutdown has begun. */
  get shuttingDown(): boolean {
    return this.#stopped !== undefined;
  }

  /** `http://HOST:PORT/` of the HTTP endpoint and how it is guarded, when there is one. */
  get http(): string | undefined {
    return this.#http ? `${this.#http.url}${this.#httpNote}` : undefined;
  }

  /** `unix:PATH` of the control socket, when there is one. */
  get localAddress(): string | undefined {
    return this.#local?.address;
  }

  /**
   * SIGHUP: reopens every log file (children's output, the audit log) at its path, for an
   * external logrotate; then re-reads server.yml and returns what changed since the last
   * reading, one line per change. Throws a ConfigError when the file is now invalid; children
   * are never touched.
   */
  async reload(): Promise<string[]> {
    await this.#pipeline.reopenLogs();
    await this.#supervisor.reopenLogs();
    const next = await this.#store.serverConfig();
    const changes = describeConfigChanges(this.#lastConfig, next);
    this.#lastConfig = next;
    return changes;
  }

  /** `host:port` of the control port. */
  get address(): string {
    return this.#listener.address;
  }

  get port(): number {
    return this.#listener.port;
  }

  /** Serves requests; resolves once the server has shut down (by `kill` or {@link shutdown}). */
  async serve(): Promise<void> {
    const pipeline = this.#pipeline;
    const legacy: LegacyContext = {
      encrypt: this.config.encrypt,
      readTimeoutMs: this.config.limits.readTimeoutMs,
      keys: this.#keys,
      snapshot: () => pipeline.snapshot(),
      run: (request, origin, snap) => pipeline.run(request, origin, snap),
      refused: (origin, code, snap) => pipeline.refused(origin, code, snap),
      runConfig: (name) => this.#supervisor.known(name)?.config,
      warnDisabled: (reason) => {
        if (this.#warnedLegacy) return;
        this.#warnedLegacy = true;
        this.#logger.warn(`a supervisor-rs client was refused (said once): ${reason}`);
      },
    };
    const handlers: Handlers = {
      v2: (value, from) => pipeline.v2(value, from),
      legacy: (first, socket, peer) => serveLegacy(socket, { first, peer, ctx: legacy }),
      delivered: (outcome) => this.#delivered(outcome),
    };
    void this.#listener.serve(handlers);
    if (this.#local) void this.#local.serve(handlers);
    await this.#done;
  }

  /** What happens once a request's response has been sent: `kill` shuts the server down. */
  #delivered(outcome: Outcome): void {
    if (outcome.kind === "shutdown") void this.shutdown("kill requested by a client");
  }

  /** Stops accepting, stops every child gracefully, then lets {@link serve} return. */
  shutdown(reason: string): Promise<void> {
    this.#stopped ??= (async () => {
      this.#logger.info(`shutting down (${reason}): stopping every child`);
      this.#listener.close();
      this.#local?.close();
      // Closing HTTP waits at most a second for requests in flight: children stop meanwhile.
      const http = this.#http?.close();
      this.#events.closeAll();
      this.#resources.close();
      if (this.config.controlSocket !== undefined) {
        await removeControlSocket(this.config.controlSocket);
      }
      await this.#supervisor.shutdown();
      await http;
      await this.#pipeline.close();
      await this.#recorder?.close();
      this.#logger.info("all children stopped; bye");
      this.#resolveDone();
    })();
    return this.#stopped;
  }
}

/** The state file of a server, what it held at boot, and the recorder that keeps it current. */
interface OpenState {
  readonly previous: ServerState | undefined;
  readonly recorder: StateRecorder;
}

/**
 * Opens the state file (`state_file`, or its default place): reads what a previous server
 * left, refusing to go on when that server is still alive (two servers must not share one).
 * Undefined when it is turned off or cannot be used here (logged: the server runs on without).
 */
async function openState(
  serverPath: string,
  config: ServerConfig,
  logger: Logger,
): Promise<OpenState | undefined> {
  if (config.stateFile === false) return undefined;
  const path = config.stateFile ?? defaultStatePath(serverPath);
  const self = await identify(Deno.pid);
  try {
    if (!self) throw new Error("this system does not tell process start times (/proc)");
    await prepareStateDir(path);
  } catch (error) {
    logger.warn(
      `state file "${path}" cannot be used, so a server started after this one is killed will not find its children: ${
        describeError(error)
      }`,
    );
    return undefined;
  }
  const file = new StateFile(path, logger);
  const previous = await file.load();
  if (previous && previous.server.pid !== Deno.pid && await stillAlive(previous.server)) {
    throw new Error(
      `another server (pid ${previous.server.pid}) is running with state file "${path}": stop it first, or give this server a state_file of its own`,
    );
  }
  return { previous, recorder: new StateRecorder(file, self) };
}
