'use strict';
/**
 * Node.js client of the krakengw gRPC execution gateway.
 *
 * Loads the contract at run time (@grpc/proto-loader): from ../../proto in this repository, so it
 * always matches the protos here, or from the copy bundled into a packed tarball. Prices and quantities are decimal strings both ways: numbers
 * are refused, because a JavaScript number cannot carry an exact price. Sequences (uint64) are
 * strings too. Enum values are their proto names ("EXEC_TYPE_FILL"); inputs also accept the
 * short form ("buy", "stop-loss-limit").
 */
const fs = require('node:fs');
const path = require('node:path');
const { setTimeout: delay } = require('node:timers/promises');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

// A packed client (npm pack) carries its own copy of the contract in ./proto (the prepack
// script copies it); in this repository the client reads ../../proto directly.
const BUNDLED_PROTO = path.join(__dirname, 'proto');
const PROTO_ROOT = fs.existsSync(path.join(BUNDLED_PROTO, 'krakengw', 'v1'))
  ? BUNDLED_PROTO
  : path.resolve(__dirname, '..', '..', 'proto');
const CONTRACT_DIR = path.join(PROTO_ROOT, 'krakengw', 'v1');
const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
const RETRYABLE = new Set([
  grpc.status.UNAVAILABLE, grpc.status.UNKNOWN, grpc.status.INTERNAL, grpc.status.CANCELLED,
  grpc.status.DEADLINE_EXCEEDED, grpc.status.ABORTED, grpc.status.RESOURCE_EXHAUSTED,
]);
// After these reasons a new Logon (e.g. after a gateway restart) lets a stream resume.
const SESSION_LOST = new Set(['SESSION_NOT_FOUND', 'NOT_LOGGED_ON']);
const ALREADY_LOGGED_ON = new Set(['SESSION_ALREADY_ACTIVE', 'SESSION_IN_USE']);
// UNAVAILABLE with one of these reasons: another gateway of a fleet may serve the call ('': the
// connection failed, no gateway answered; KEY_LEASED: this gateway lost the account's key lease
// to another, and sent nothing for the call).
const MOVE_REASONS = new Set(['SESSION_MOVED', 'GATEWAY_SHUTTING_DOWN', 'KEY_LEASED', '']);

/** Whether a failure means "try the session's gateway elsewhere" (a fleet client moves). */
function isMove(error) {
  // INTERNAL without a reason is gRPC's own failure of the connection (the gateway gives every
  // INTERNAL of its own the reason INTERNAL).
  if (error.code === grpc.status.INTERNAL && !error.reason) return true;
  return error.code === grpc.status.UNAVAILABLE && MOVE_REASONS.has(error.reason);
}

/** Whether a call that carried logon id `used` was refused only because its client has logged
 * on again since (its id is now `current`): repeated with `current`, it may pass. */
function isSuperseded(error, used, current) {
  return error.reason === 'LOGON_ID_MISMATCH' && current !== null && used !== current;
}
const SERVICES = [
  'SessionService', 'OrderService', 'ExecutionService', 'AccountService',
  'InstrumentService', 'MarketDataService',
];

/** The contract's proto files, relative to the proto root. */
function contractFiles() {
  return fs.readdirSync(CONTRACT_DIR)
    .filter((f) => f.endsWith('.proto'))
    .sort()
    .map((f) => `krakengw/v1/${f}`);
}

/** Loads the contract plus google.rpc error details; returns the package definition. */
function loadContract() {
  return protoLoader.loadSync([...contractFiles(), 'google/rpc/error_details.proto'], {
    includeDirs: [PROTO_ROOT, path.join(PROTO_ROOT, 'third_party')],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
}

const packageDefinition = loadContract();
const v1 = grpc.loadPackageDefinition(packageDefinition).krakengw.v1;

/** A failed call: gRPC code plus the gateway's ErrorInfo reason (without ERROR_REASON_). */
class KrakenGwError extends Error {
  /**
   * @param {number} code grpc.status value
   * @param {string} message
   * @param {{reason?: string, domain?: string, metadata?: Record<string,string>}} [info]
   */
  constructor(code, message, info = {}) {
    super(message);
    this.name = 'KrakenGwError';
    this.code = code;
    this.codeName = Object.keys(grpc.status).find((k) => grpc.status[k] === code) || 'UNKNOWN';
    this.reason = info.reason || '';
    this.domain = info.domain || '';
    this.metadata = info.metadata || {};
  }

  toString() {
    return `${this.codeName}${this.reason ? ` [${this.reason}]` : ''}: ${this.message}`;
  }
}

function redact(text, secret) {
  return secret ? String(text).split(secret).join('[redacted]') : String(text);
}

/** Parses a google.rpc.Status (bytes or decoded object) into a KrakenGwError. */
function errorFromStatus(status, secret) {
  let reason = '';
  let domain = '';
  let metadata = {};
  for (const detail of status.details || []) {
    // google.protobuf.Any keeps its snake_case field names in protobufjs.
    const typeUrl = detail.type_url || detail.typeUrl || '';
    if (typeUrl.endsWith('/google.rpc.ErrorInfo')) {
      const info = packageDefinition['google.rpc.ErrorInfo'].deserialize(detail.value);
      reason = String(info.reason || '').replace(/^ERROR_REASON_/, '');
      domain = info.domain || '';
      metadata = info.metadata || {};
    }
  }
  return new KrakenGwError(status.code, redact(status.message || '', secret), { reason, domain, metadata });
}

/** Turns a grpc-js ServiceError into a KrakenGwError (ErrorInfo from the status trailer). */
function toError(err, secret) {
  const raw = err.metadata && err.metadata.get(STATUS_DETAILS_KEY);
  if (raw && raw.length) {
    try {
      const status = packageDefinition['google.rpc.Status'].deserialize(raw[0]);
      return errorFromStatus({ ...status, code: err.code, message: err.details || status.message }, secret);
    } catch {
      // a malformed trailer must not hide the real error
    }
  }
  return new KrakenGwError(err.code, redact(err.details || err.message || '', secret));
}

/** "buy" -> "SIDE_BUY"; full names pass through. */
function enumValue(prefix, value) {
  if (value === undefined || value === null || value === '') return `${prefix}_UNSPECIFIED`;
  const name = String(value).trim().toUpperCase().replace(/-/g, '_');
  return name.startsWith(`${prefix}_`) ? name : `${prefix}_${name}`;
}

/** A decimal for the wire: strings (or bigint) only, never a float. */
function decimal(value, field) {
  if (value === undefined || value === null) return '';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'string' || !/^-?\d+(\.\d+)?$/.test(value.trim())) {
    throw new TypeError(`${field} must be a decimal string like "0.01"`);
  }
  return value.trim();
}

function timestamp(date) {
  if (date === undefined || date === null) return null;
  const ms = date.getTime();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

/** A google.protobuf.Duration from milliseconds (null: unset), and back (0 when unset). */
function duration(ms) {
  if (ms === undefined || ms === null) return null;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new TypeError('a duration in milliseconds must be a finite number >= 0');
  }
  const whole = Math.floor(ms);
  return { seconds: String(Math.floor(whole / 1000)), nanos: (whole % 1000) * 1e6 };
}

function durationMs(value) {
  return value ? Number(value.seconds) * 1000 + Math.floor(value.nanos / 1e6) : 0;
}

/**
 * @typedef {object} OrderInput
 * @property {string} symbol unified symbol, e.g. "BTC/USD"
 * @property {string} side "buy" | "sell"
 * @property {string} [qty] decimal string
 * @property {string} [price] decimal string; present -> limit order unless orderType says otherwise
 * @property {string} [stopPrice]
 * @property {string} [orderType] "market" | "limit" | "stop-loss" | ... | "iceberg"
 * @property {string} [timeInForce] "gtc" | "ioc" | "gtd" | "fok"
 * @property {string} [clientOrderId] generated (UUID) when absent
 * @property {string} [venue] empty: the gateway picks the venue listing the symbol
 * @property {boolean} [postOnly]
 * @property {boolean} [reduceOnly]
 * @property {string} [displayQty]
 * @property {string} [cashOrderQty]
 * @property {string} [leverage]
 * @property {Date} [deadline]
 * @property {Date} [expireTime]
 * @property {boolean} [validateOnly]
 */

/** The OrderSpec message for an OrderInput. */
function orderSpec(input) {
  const orderType = input.orderType || (input.price !== undefined ? 'limit' : 'market');
  return {
    clientOrderId: input.clientOrderId || require('node:crypto').randomUUID(),
    instrument: { venue: input.venue || '', symbol: input.symbol },
    side: enumValue('SIDE', input.side),
    orderType: enumValue('ORDER_TYPE', orderType),
    timeInForce: enumValue('TIME_IN_FORCE', input.timeInForce),
    orderQty: decimal(input.qty, 'qty'),
    cashOrderQty: decimal(input.cashOrderQty, 'cashOrderQty'),
    price: decimal(input.price, 'price'),
    stopPrice: decimal(input.stopPrice, 'stopPrice'),
    displayQty: decimal(input.displayQty, 'displayQty'),
    leverage: decimal(input.leverage, 'leverage'),
    postOnly: Boolean(input.postOnly),
    reduceOnly: Boolean(input.reduceOnly),
    deadline: timestamp(input.deadline),
    expireTime: timestamp(input.expireTime),
    validateOnly: Boolean(input.validateOnly),
  };
}

function instrument(symbol, venue = '') {
  return symbol === undefined || symbol === null ? null : { venue: venue || '', symbol };
}

/** A filter: the symbol and/or the venue given; null (any instrument) when neither is. */
function instrumentFilter(symbol, venue = '') {
  if ((symbol === undefined || symbol === null) && !venue) return null;
  return { venue: venue || '', symbol: symbol || '' };
}

/** An order named by client order id (a string) or by {clientOrderId} / {venueOrderId}. */
function orderRef(ref) {
  if (typeof ref === 'string') return { clientOrderId: ref, venueOrderId: '' };
  if (!ref || (!ref.clientOrderId && !ref.venueOrderId)) {
    throw new TypeError('give a client order id or {venueOrderId}');
  }
  return { clientOrderId: ref.clientOrderId || '', venueOrderId: ref.venueOrderId || '' };
}

/**
 * @typedef {object} AmendInput fields left out are unchanged
 * @property {string} [qty] @property {string} [price] @property {string} [stopPrice]
 * @property {string} [displayQty] @property {string} [trailingOffset]
 * @property {string} [limitOffset] @property {boolean} [postOnly] @property {Date} [deadline]
 */

/** The AmendOrderRequest for an order reference and its changes. */
function amendRequest(ref, changes = {}) {
  const request = {
    ...orderRef(ref),
    orderQty: decimal(changes.qty, 'qty'),
    price: decimal(changes.price, 'price'),
    stopPrice: decimal(changes.stopPrice, 'stopPrice'),
    displayQty: decimal(changes.displayQty, 'displayQty'),
    trailingOffset: decimal(changes.trailingOffset, 'trailingOffset'),
    limitOffset: decimal(changes.limitOffset, 'limitOffset'),
    deadline: timestamp(changes.deadline),
  };
  if (changes.postOnly !== undefined) request.postOnly = Boolean(changes.postOnly);
  return request;
}

/** One OrderResult of a batch: the Order, or a KrakenGwError. */
function batchResult(result, secret) {
  return result.error ? errorFromStatus(result.error, secret) : result.order;
}

/** Client of one gateway with one bearer token. The token never appears in errors or inspect. */
class KrakenGwClient {
  /**
   * @param {string|string[]} target "host:port", or every gateway address of a fleet: a call
   *   refused with UNAVAILABLE / SESSION_MOVED, or made to a gateway that is down, moves to the
   *   address the refusal names (ErrorInfo metadata "address"), else to the next of the list,
   *   logs on again and is repeated (same request: a submit keeps its client order id);
   *   execution streams resume there from their last sequence; an OrderEntry stream is opened
   *   there again and sends its requests still waiting for an ack again. `maxMoves` bounds one
   *   call's moves (default 60, with backoff up to 500 ms).
   * @param {string} token bearer token of the session
   * @param {{credentials?: grpc.ChannelCredentials, timeoutMs?: number, waitForReady?: boolean,
   *   channelOptions?: object, maxMoves?: number}} [options] `waitForReady`: unary calls wait
   *   (within the timeout) for an unreachable gateway instead of failing fast with UNAVAILABLE.
   */
  constructor(target, token, options = {}) {
    if (!token || /\s/.test(token)) throw new TypeError('token must be non-empty without spaces');
    const targets = Array.isArray(target) ? [...target] : [target];
    if (targets.length === 0) throw new TypeError('at least one gateway address is needed');
    this.credentials = options.credentials || grpc.credentials.createInsecure();
    this.targets = targets;
    this.fleet = targets.length > 1;
    this.maxMoves = options.maxMoves ?? 60;
    this.generation = 0; // bumped by every move
    this.timeoutMs = options.timeoutMs ?? 10000;
    this.waitForReady = Boolean(options.waitForReady);
    this.logonRequest = null;
    // Relogons after a move or a lost session run one at a time: calls that lost the session
    // together log on again once, and the others use the id that logon got.
    this.relogons = Promise.resolve();
    this.heartbeatTimer = null; // automatic heartbeats while logged on (see logon)
    Object.defineProperty(this, 'token', { value: token, enumerable: false });
    // This logon's id (LogonResponse.logonId), sent with every later call: the gateway binds
    // calls to the logon that made them, so the token alone cannot act in the session.
    Object.defineProperty(this, 'logonId', { value: null, enumerable: false, writable: true });
    // Reconnect quickly after a gateway restart (gRPC's default backoff grows to 120 s).
    this.channelOptions = {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2000,
      ...options.channelOptions,
    };
    this.stubsByTarget = new Map();
    this.useTarget(targets[0]);
  }

  /** Sends the next calls to `target` (its stubs share one channel, made on first use). */
  useTarget(target) {
    let stubs = this.stubsByTarget.get(target);
    if (!stubs) {
      const channelOwner = new v1.SessionService(target, this.credentials, this.channelOptions);
      const channelOverride = channelOwner.getChannel();
      stubs = Object.fromEntries(SERVICES.map((name) => [
        name, name === 'SessionService' ? channelOwner : new v1[name](target, this.credentials, { channelOverride }),
      ]));
      this.stubsByTarget.set(target, stubs);
    }
    this.target = target;
    this.stubs = stubs;
  }

  /** Moves after `error` of a call made at generation `seen` (nothing if another moved since). */
  moveAfter(error, seen) {
    if (seen !== this.generation) return;
    const named = error.reason === 'SESSION_MOVED' ? (error.metadata.address || '') : '';
    let next = named;
    if (!next || next === this.target) {
      const at = this.targets.indexOf(this.target);
      next = this.targets[(at + 1) % this.targets.length];
    }
    this.useTarget(next);
    this.generation += 1;
  }

  /** Runs `relogon` after the relogons already queued (it must not throw). */
  queueRelogon(relogon) {
    const run = this.relogons.then(relogon);
    this.relogons = run;
    return run;
  }

  /** Logs on again after a move or a lost session, unless another call of this client did
   * since the failed call that carried logon id `used` (then that logon serves). A failure
   * shows in the call repeated next (a refusal that names where the session is served moves
   * there first). */
  logonQuietly(used) {
    return this.queueRelogon(async () => {
      if (!this.logonRequest || this.logonId !== used) return;
      const seen = this.generation;
      try {
        const response = await this.unaryOnce('SessionService', 'Logon', this.logonRequest);
        this.logonId = response.logonId || null;
      } catch (error) {
        if (isMove(error)) this.moveAfter(error, seen); // else the repeated call tells
      }
    });
  }

  /** Whether a failure (of a stream, or of one request on it, which carried logon id `used`)
   * says the session is elsewhere or to be logged on again, or that the call carried an id
   * this client has replaced since: a fleet client's OrderEntry then opens its stream again. */
  follows(error, used) {
    return this.fleet && (isMove(error) || isSuperseded(error, used, this.logonId)
      || (Boolean(this.logonRequest) && SESSION_LOST.has(error.reason)));
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `KrakenGwClient { target: '${this.target}' }`;
  }

  /** Call metadata with the bearer token and, once logged on, the logon id; `waitForReady`
   * makes a call wait for the gateway. */
  metadata(waitForReady = false) {
    const md = new grpc.Metadata({ waitForReady });
    md.set('authorization', `Bearer ${this.token}`);
    if (this.logonId) md.set('krakengw-logon-id', this.logonId);
    return md;
  }

  async unary(service, method, request) {
    if (!this.fleet) return this.unaryOnce(service, method, request);
    const isLogon = service === 'SessionService' && method === 'Logon';
    for (let attempt = 0; ; attempt += 1) {
      const seen = this.generation;
      const used = this.logonId;
      try {
        return await this.unaryOnce(service, method, request);
      } catch (error) {
        if (attempt >= this.maxMoves) throw error;
        // Refused for an id this client has replaced since: at once with the current one.
        if (!isLogon && isSuperseded(error, used, this.logonId)) continue;
        const lost = SESSION_LOST.has(error.reason) && this.logonRequest && !isLogon;
        if (!(isMove(error) || lost)) throw error;
        if (isMove(error)) this.moveAfter(error, seen);
      }
      await delay(Math.min(500, 50 * 2 ** attempt));
      if (!isLogon) await this.logonQuietly(used);
    }
  }

  unaryOnce(service, method, request) {
    const deadline = new Date(Date.now() + this.timeoutMs);
    return new Promise((resolve, reject) => {
      this.stubs[service][method](request, this.metadata(this.waitForReady), { deadline }, (err, response) => {
        if (err) reject(toError(err, this.token));
        else resolve(response);
      });
    });
  }

  /** Logon: returns {sessionId, account, permissions, lastSequence, heartbeatInterval, ...}.
   * The session is live while the client calls the gateway at least once per heartbeat interval
   * (open streams do not count; `heartbeatIntervalMs` asks for one, else the gateway's default):
   * with `heartbeats` (the default) this client calls heartbeat() on its own, twice per
   * interval while its connection is up, until logout() or close(); its timer never keeps the
   * process alive. `takeover: true` replaces a live logon of the same session (e.g. after this
   * program crashed). */
  async logon({
    cancelOnDisconnect = false, clientName = 'krakengw-node', takeover = false,
    heartbeatIntervalMs = null, heartbeats = true,
  } = {}) {
    const request = { cancelOnDisconnect, clientName, takeover, heartbeatInterval: duration(heartbeatIntervalMs) };
    const response = await this.unary('SessionService', 'Logon', request);
    this.logonId = response.logonId || null;
    // A relogon after a lost session must not take over someone else's logon.
    this.logonRequest = { ...request, takeover: false };
    const intervalMs = durationMs(response.heartbeatInterval);
    if (heartbeats && intervalMs > 0) this.startHeartbeats(intervalMs / 2);
    return response;
  }

  /** Calls heartbeat() every `periodMs` while the connection is up (a beat at a gateway that is
   * down would only push the channel's reconnect backoff out, and could not keep the session
   * alive anyway). A failed beat is dropped: a lost session is logged on again by the streams
   * and by the next call of a fleet client. */
  startHeartbeats(periodMs) {
    this.stopHeartbeats();
    let beating = false;
    const timer = setInterval(async () => {
      const channel = this.stubs.SessionService.getChannel();
      if (beating || channel.getConnectivityState(false) !== grpc.connectivityState.READY) return;
      beating = true;
      try {
        await this.heartbeat();
      } catch {
        // dropped (see above); heartbeat() rejects only with KrakenGwError
      } finally {
        beating = false;
      }
    }, periodMs);
    timer.unref(); // the heartbeats never keep the process alive
    this.heartbeatTimer = timer;
  }

  stopHeartbeats() {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  async logout() {
    this.stopHeartbeats();
    const response = await this.unary('SessionService', 'Logout', {});
    this.logonRequest = null;
    this.logonId = null;
    return response;
  }

  /** Logs on again with the last Logon's settings after a call that carried logon id `used`
   * found the session lost; true when the session is live again (also when another call of
   * this client logged on again since). */
  relogon(error, used) {
    return this.queueRelogon(async () => {
      if (!this.logonRequest || !SESSION_LOST.has(error.reason)) return false;
      if (this.logonId !== used) return true;
      try {
        const response = await this.unary('SessionService', 'Logon', this.logonRequest);
        this.logonId = response.logonId || null;
        return true;
      } catch (err) {
        // A concurrent logon won the race; or (a fleet client) no gateway serves the session
        // yet: the stream tries again after its backoff.
        return ALREADY_LOGGED_ON.has(err.reason) || (this.fleet && isMove(err));
      }
    });
  }

  /** Every page of a List call: the concatenated `field` items. */
  async allPages(service, method, request, field) {
    const items = [];
    const seen = new Set();
    let pageToken = '';
    for (;;) {
      const response = await this.unary(service, method, { ...request, pageToken });
      items.push(...response[field]);
      pageToken = response.nextPageToken;
      if (!pageToken || seen.has(pageToken)) return items; // a repeated token would loop
      seen.add(pageToken);
    }
  }

  /** A server stream as an async iterator of its messages; failures throw KrakenGwError. */
  serverStream(service, method, request) {
    const call = this.stubs[service][method](request, this.metadata());
    const secret = this.token;
    async function* messages() {
      try {
        for await (const message of call) yield message;
      } catch (err) {
        if (err && err.code === grpc.status.CANCELLED) return; // closed by the caller
        throw toError(err, secret);
      } finally {
        call.cancel();
      }
    }
    const iterator = messages();
    return {
      [Symbol.asyncIterator]() { return iterator; },
      next: () => iterator.next(),
      close() { call.cancel(); return iterator.return(undefined); },
    };
  }

  /** @param {string} [testRequestId] @returns {Promise<object>} HeartbeatResponse */
  async heartbeat(testRequestId = '') {
    return this.unary('SessionService', 'Heartbeat', { testRequestId });
  }

  // --- orders ---------------------------------------------------------------------------

  /** @param {OrderInput} input @returns {Promise<object>} the Order message */
  async submitOrder(input) {
    const response = await this.unary('OrderService', 'SubmitOrder', { order: orderSpec(input) });
    return response.order;
  }

  /** @param {OrderInput[]} inputs @returns {Promise<Array<object|KrakenGwError>>} in order */
  async submitOrderBatch(inputs) {
    const response = await this.unary('OrderService', 'SubmitOrderBatch', { orders: inputs.map(orderSpec) });
    return response.results.map((r) => batchResult(r, this.token));
  }

  /** @param {string|{clientOrderId?: string, venueOrderId?: string}} ref @param {AmendInput} changes */
  async amendOrder(ref, changes) {
    const response = await this.unary('OrderService', 'AmendOrder', amendRequest(ref, changes));
    return response.order;
  }

  /** Cancel/replace: `input` is the new order (with a new client order id). */
  async replaceOrder(origClientOrderId, input) {
    const request = { origClientOrderId, order: orderSpec(input) };
    const response = await this.unary('OrderService', 'ReplaceOrder', request);
    return response.order;
  }

  /** @param {string|{clientOrderId?: string, venueOrderId?: string}} ref @returns {Promise<object>} */
  async cancelOrder(ref) {
    const response = await this.unary('OrderService', 'CancelOrder', orderRef(ref));
    return response.order;
  }

  /** @param {string[]} clientOrderIds @returns {Promise<Array<object|KrakenGwError>>} */
  async cancelOrderBatch(clientOrderIds) {
    const orders = clientOrderIds.map((id) => orderRef(id));
    const response = await this.unary('OrderService', 'CancelOrderBatch', { orders });
    return response.results.map((r) => batchResult(r, this.token));
  }

  /** @returns {Promise<number>} the number of orders canceled */
  async cancelAllOrders({ symbol, venue } = {}) {
    const response = await this.unary('OrderService', 'CancelAllOrders', { instrument: instrumentFilter(symbol, venue) });
    return response.canceledCount;
  }

  /** @param {string|{clientOrderId?: string, venueOrderId?: string}} ref @returns {Promise<object>} */
  async getOrder(ref) {
    const response = await this.unary('OrderService', 'GetOrder', orderRef(ref));
    return response.order;
  }

  async listOpenOrders({ symbol, venue } = {}) {
    return this.allPages('OrderService', 'ListOpenOrders', { instrument: instrumentFilter(symbol, venue) }, 'orders');
  }

  /** Every order (open and closed), optionally of one symbol and within [start, end). */
  async listOrders({ symbol, venue, start, end } = {}) {
    const request = { instrument: instrumentFilter(symbol, venue), startTime: timestamp(start), endTime: timestamp(end) };
    return this.allPages('OrderService', 'ListOrders', request, 'orders');
  }

  /** Opens the bidirectional OrderEntry stream (lowest latency); close() it when done. */
  orderEntry() {
    return new OrderEntry(this);
  }

  // --- executions ------------------------------------------------------------------------

  async listFills({ symbol, venue, clientOrderId, start, end } = {}) {
    const request = {
      instrument: instrumentFilter(symbol, venue),
      clientOrderId: clientOrderId || '',
      startTime: timestamp(start),
      endTime: timestamp(end),
    };
    return this.allPages('ExecutionService', 'ListFills', request, 'fills');
  }

  // --- account ---------------------------------------------------------------------------

  async listBalances({ wallet } = {}) {
    return this.allPages('AccountService', 'ListBalances', { wallet: wallet || '' }, 'balances');
  }

  async listPositions({ symbol, venue } = {}) {
    return this.allPages('AccountService', 'ListPositions', { instrument: instrumentFilter(symbol, venue) }, 'positions');
  }

  /** Async iterator of {snapshot, balances}: a full snapshot first, then changes. */
  streamBalances() {
    return this.serverStream('AccountService', 'StreamBalances', {});
  }

  /** Async iterator of {snapshot, positions}: a full snapshot first, then changes. */
  streamPositions() {
    return this.serverStream('AccountService', 'StreamPositions', {});
  }

  async listSubaccounts() {
    return this.allPages('AccountService', 'ListSubaccounts', {}, 'subaccounts');
  }

  /** @returns {Promise<object>} the Transfer message */
  async transferFunds({ asset, amount, fromAccount, toAccount, clientTransferId }) {
    const request = {
      clientTransferId: clientTransferId || require('node:crypto').randomUUID(),
      asset,
      amount: decimal(amount, 'amount'),
      fromAccount,
      toAccount,
    };
    const response = await this.unary('AccountService', 'TransferFunds', request);
    return response.transfer;
  }

  /** Risk limits and the rate governor's headroom ({rateBudgets, riskLimits, retryAfter}). */
  async getLimits() {
    return this.unary('AccountService', 'GetLimits', {});
  }

  /** Cancels every open order of the account and refuses new ones; returns the count. */
  async engageKillSwitch(reason = '') {
    const response = await this.unary('AccountService', 'EngageKillSwitch', { reason });
    return response.canceledCount;
  }

  async releaseKillSwitch() {
    await this.unary('AccountService', 'ReleaseKillSwitch', {});
  }

  // --- instruments and market data -------------------------------------------------------

  async listInstruments({ venue, productType } = {}) {
    const request = { venue: venue || '', productType: enumValue('PRODUCT_TYPE', productType) };
    return this.allPages('InstrumentService', 'ListInstruments', request, 'instruments');
  }

  /** @returns {Promise<object>} the Ticker message */
  async getTicker(symbol, { venue } = {}) {
    const response = await this.unary('MarketDataService', 'GetTicker', { instrument: instrument(symbol, venue) });
    return response.ticker;
  }

  /** Async iterator of book messages (a snapshot first, then updates); close() ends it. */
  streamBook(symbol, { venue, depth = 0 } = {}) {
    return this.serverStream('MarketDataService', 'StreamBook', { instrument: instrument(symbol, venue), depth });
  }

  /** Async iterator of public trade messages ({trades}); close() ends it. */
  streamTrades(symbol, { venue } = {}) {
    return this.serverStream('MarketDataService', 'StreamTrades', { instrument: instrument(symbol, venue) });
  }

  /**
   * ExecutionReports after `fromSequence`, replayed then live, as an async iterator. On a
   * retryable failure it reconnects (bounded exponential backoff) from the last sequence seen
   * and drops replayed duplicates, so each report arrives once; if the gateway lost the
   * session (restart), it logs on again with the last logon's settings. `stream.lastSequence` is a
   * string; `stream.close()` ends it. The gateway coalesces up to `maxBatch` ready reports per
   * message (default 512; 0 asks for one report per message); they are still yielded one at a
   * time and `lastSequence` advances per report yielded.
   * @param {{fromSequence?: string|number, dropCopy?: boolean, maxAttempts?: number,
   *   maxBatch?: number}} [options]
   */
  streamExecutions({ fromSequence = '0', dropCopy = false, maxAttempts = 30, maxBatch = 512 } = {}) {
    const client = this;
    const state = { lastSequence: BigInt(fromSequence), call: null, closed: false };
    async function* reports() {
      let failures = 0;
      while (!state.closed) {
        const request = { fromSequence: state.lastSequence.toString(), dropCopy, maxBatch };
        // A resuming stream waits for the gateway to come back rather than failing fast; a
        // fleet client's must fail fast on a dead gateway, to move on.
        const opened = client.generation;
        const usedLogonId = client.logonId;
        const call = client.stubs.ExecutionService.StreamExecutions(
          request, client.metadata(!client.fleet),
        );
        state.call = call;
        try {
          reading: for await (const message of call) {
            failures = 0;
            let reports;
            if (message.event === 'executionReports') reports = message.executionReports.reports;
            else if (message.event === 'executionReport') reports = [message.executionReport];
            else continue; // heartbeat, or an event kind newer than this client
            for (const report of reports) {
              if (state.closed) return;
              const seq = BigInt(dropCopy ? report.accountSequence : report.sequence);
              if (seq <= state.lastSequence) continue;
              // gap: reconnect to fetch what is missing
              if (seq !== state.lastSequence + 1n) break reading;
              state.lastSequence = seq;
              yield report;
            }
          }
        } catch (err) {
          if (state.closed) return;
          const error = toError(err, client.token);
          if (client.fleet && isMove(error)) {
            client.moveAfter(error, opened);
            await client.logonQuietly(usedLogonId);
          }
          // LOGON_ID_MISMATCH after this client logged on again (its id changed since the call
          // opened): reconnect with the new id; after someone else's takeover: stop.
          const relogged = error.reason === 'LOGON_ID_MISMATCH'
            && client.logonId !== null && client.logonId !== usedLogonId;
          const retry = RETRYABLE.has(error.code) || relogged || (await client.relogon(error, usedLogonId));
          if (!retry || failures >= maxAttempts) throw error;
        } finally {
          call.cancel();
        }
        if (state.closed) return;
        if (failures >= maxAttempts) {
          throw new KrakenGwError(grpc.status.UNAVAILABLE, `execution stream lost after ${failures} attempts`);
        }
        await delay(Math.min(2000, 50 * 2 ** failures));
        failures += 1;
      }
    }
    const iterator = reports();
    return {
      [Symbol.asyncIterator]() { return iterator; },
      next: () => iterator.next(),
      get lastSequence() { return state.lastSequence.toString(); },
      close() {
        state.closed = true;
        if (state.call) state.call.cancel();
        return iterator.return(undefined);
      },
    };
  }

  /** The metadata this client sends (bearer token and, once logged on, the logon id), for
   * calls through raw stubs. It holds the token: never log it. */
  callMetadata() {
    return this.metadata();
  }

  /** Logs out if logged on (a session that is already gone is fine), then closes. */
  async logoutAndClose() {
    if (this.logonId) {
      try {
        await this.logout();
      } catch (err) {
        if (!(err instanceof KrakenGwError)) throw err;
        this.logonId = null;
        this.logonRequest = null;
      }
    }
    this.close();
  }

  /** Closes the channels without logging out (the session then times out); stops heartbeats. */
  close() {
    this.stopHeartbeats();
    for (const stubs of this.stubsByTarget.values()) {
      for (const stub of Object.values(stubs)) stub.close();
    }
  }
}

/**
 * The bidirectional OrderEntry stream: the order calls' requests and acks over one long-lived
 * call, matched by correlation id. Acks may come back in any order; each call waits only for
 * its own. If the stream breaks, every waiting call rejects with the stream's KrakenGwError and
 * later calls reject too: open a new one (a client order id makes a resubmit safe). A client
 * given several gateway addresses (a fleet) does that itself when the stream or a request's
 * ack says the session is served elsewhere (or its gateway is gone, or lost the session): it
 * moves, logs on again, opens the stream there and sends the requests still waiting for their
 * ack again (within `maxMoves`); the waiting calls see only their acks.
 */
class OrderEntry {
  constructor(client) {
    this.client = client;
    this.nextId = 1;
    this.pending = new Map(); // correlationId -> {resolve, reject, message}
    this.failure = null;
    this.closed = false;
    this.moving = null;
    this.moves = 0; // since the last ack: bounded by the client's maxMoves
    this.open();
  }

  open() {
    const client = this.client;
    const call = client.stubs.OrderService.OrderEntry(client.metadata());
    const opened = client.generation;
    this.call = call;
    this.usedLogonId = client.logonId; // the logon id this call carries
    const current = () => call === this.call && !this.closed;
    call.on('data', (response) => { if (current()) this.settle(response, opened); });
    call.on('error', (err) => {
      if (!current()) return;
      if (err && err.code === grpc.status.CANCELLED) {
        this.fail(new KrakenGwError(grpc.status.CANCELLED, 'order entry stream closed'));
      } else {
        this.broke(toError(err, client.token), opened);
      }
    });
    call.on('end', () => {
      if (current()) this.broke(new KrakenGwError(grpc.status.UNAVAILABLE, 'order entry stream ended'), opened);
    });
  }

  settle(response, opened) {
    const waiter = this.pending.get(response.correlationId);
    if (!waiter) return;
    if (response.response === 'error') {
      const error = errorFromStatus(response.error, this.client.token);
      if (this.client.follows(error, this.usedLogonId)) {
        this.broke(error, opened); // kept: sent again where the session is served
        return;
      }
      this.pending.delete(response.correlationId);
      waiter.reject(error);
      return;
    }
    this.pending.delete(response.correlationId);
    this.moves = 0;
    waiter.resolve(response[response.response]);
  }

  /** The stream (opened at client generation `opened`) failed with `error`: follow the session
   * if the client is a fleet client and the error says so, else fail what waits. */
  broke(error, opened) {
    if (this.moving) return;
    if (!this.client.follows(error, this.usedLogonId)) {
      this.fail(error);
      return;
    }
    this.moving = this.move(error, opened).finally(() => { this.moving = null; });
  }

  async move(error, opened) {
    const client = this.client;
    const old = this.call;
    this.call = null; // events of the old call are ignored from here on
    old.cancel();
    if (this.moves >= client.maxMoves) {
      this.fail(error);
      return;
    }
    if (isMove(error)) client.moveAfter(error, opened);
    await delay(Math.min(500, 50 * 2 ** this.moves));
    this.moves += 1;
    await client.logonQuietly(this.usedLogonId);
    if (this.closed) return;
    this.open();
    for (const { message } of this.pending.values()) this.call.write(message);
  }

  fail(error) {
    if (!this.failure) this.failure = error;
    for (const waiter of this.pending.values()) waiter.reject(this.failure);
    this.pending.clear();
  }

  send(field, request) {
    if (this.failure) return Promise.reject(this.failure);
    const correlationId = String(this.nextId++);
    const message = { correlationId, [field]: request };
    return new Promise((resolve, reject) => {
      this.pending.set(correlationId, { resolve, reject, message });
      // While moving, the new stream sends it once opened.
      if (this.call) this.call.write(message);
    });
  }

  async submitOrder(input) { return (await this.send('submitOrder', { order: orderSpec(input) })).order; }

  async submitOrderBatch(inputs) {
    const response = await this.send('submitOrderBatch', { orders: inputs.map(orderSpec) });
    return response.results.map((r) => batchResult(r, this.client.token));
  }

  async amendOrder(ref, changes) { return (await this.send('amendOrder', amendRequest(ref, changes))).order; }

  async replaceOrder(origClientOrderId, input) {
    return (await this.send('replaceOrder', { origClientOrderId, order: orderSpec(input) })).order;
  }

  async cancelOrder(ref) { return (await this.send('cancelOrder', orderRef(ref))).order; }

  async cancelOrderBatch(clientOrderIds) {
    const response = await this.send('cancelOrderBatch', { orders: clientOrderIds.map((id) => orderRef(id)) });
    return response.results.map((r) => batchResult(r, this.client.token));
  }

  async cancelAllOrders({ symbol, venue } = {}) {
    return (await this.send('cancelAllOrders', { instrument: instrumentFilter(symbol, venue) })).canceledCount;
  }

  close() {
    this.closed = true;
    this.fail(new KrakenGwError(grpc.status.CANCELLED, 'order entry stream closed'));
    if (this.call) {
      this.call.end();
      this.call.cancel();
    }
  }
}

module.exports = {
  KrakenGwClient,
  KrakenGwError,
  OrderEntry,
  amendRequest,
  contractFiles,
  errorFromStatus,
  loadContract,
  orderSpec,
  packageDefinition,
  SERVICES,
  v1,
};
