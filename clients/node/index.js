'use strict';
/**
 * Node.js client of the krakengw gRPC execution gateway.
 *
 * Loads the contract from ../../proto at run time (@grpc/proto-loader), so it always matches
 * the protos in this repository. Prices and quantities are decimal strings both ways: numbers
 * are refused, because a JavaScript number cannot carry an exact price. Sequences (uint64) are
 * strings too. Enum values are their proto names ("EXEC_TYPE_FILL"); inputs also accept the
 * short form ("buy", "stop-loss-limit").
 */
const fs = require('node:fs');
const path = require('node:path');
const { setTimeout: delay } = require('node:timers/promises');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', 'proto');
const CONTRACT_DIR = path.join(PROTO_ROOT, 'krakengw', 'v1');
const STATUS_DETAILS_KEY = 'grpc-status-details-bin';
const RETRYABLE = new Set([
  grpc.status.UNAVAILABLE, grpc.status.UNKNOWN, grpc.status.INTERNAL, grpc.status.CANCELLED,
  grpc.status.DEADLINE_EXCEEDED, grpc.status.ABORTED, grpc.status.RESOURCE_EXHAUSTED,
]);
// After these reasons a new Logon (e.g. after a gateway restart) lets a stream resume.
const SESSION_LOST = new Set(['SESSION_NOT_FOUND', 'NOT_LOGGED_ON']);
const ALREADY_LOGGED_ON = new Set(['SESSION_ALREADY_ACTIVE', 'SESSION_IN_USE']);
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

/** Client of one gateway with one bearer token. The token never appears in errors or inspect. */
class KrakenGwClient {
  /**
   * @param {string} target "host:port"
   * @param {string} token bearer token of the session
   * @param {{credentials?: grpc.ChannelCredentials, timeoutMs?: number, waitForReady?: boolean,
   *   channelOptions?: object}} [options] `waitForReady`: unary calls wait (within the timeout)
   *   for an unreachable gateway instead of failing fast with UNAVAILABLE.
   */
  constructor(target, token, options = {}) {
    if (!token || /\s/.test(token)) throw new TypeError('token must be non-empty without spaces');
    const credentials = options.credentials || grpc.credentials.createInsecure();
    this.target = target;
    this.timeoutMs = options.timeoutMs ?? 10000;
    this.waitForReady = Boolean(options.waitForReady);
    this.logonRequest = null;
    Object.defineProperty(this, 'token', { value: token, enumerable: false });
    // Reconnect quickly after a gateway restart (gRPC's default backoff grows to 120 s).
    const channelOptions = {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2000,
      ...options.channelOptions,
    };
    const channelOwner = new v1.SessionService(target, credentials, channelOptions);
    const channelOverride = channelOwner.getChannel();
    this.stubs = Object.fromEntries(SERVICES.map((name) => [
      name, name === 'SessionService' ? channelOwner : new v1[name](target, credentials, { channelOverride }),
    ]));
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `KrakenGwClient { target: '${this.target}' }`;
  }

  /** Call metadata with the bearer token; `waitForReady` makes a call wait for the gateway. */
  metadata(waitForReady = false) {
    const md = new grpc.Metadata({ waitForReady });
    md.set('authorization', `Bearer ${this.token}`);
    return md;
  }

  unary(service, method, request) {
    const deadline = new Date(Date.now() + this.timeoutMs);
    return new Promise((resolve, reject) => {
      this.stubs[service][method](request, this.metadata(this.waitForReady), { deadline }, (err, response) => {
        if (err) reject(toError(err, this.token));
        else resolve(response);
      });
    });
  }

  /** Logon: returns {sessionId, account, permissions, lastSequence, ...}. */
  async logon({ cancelOnDisconnect = false, clientName = 'krakengw-node' } = {}) {
    const request = { cancelOnDisconnect, clientName };
    const response = await this.unary('SessionService', 'Logon', request);
    this.logonRequest = request;
    return response;
  }

  async logout() {
    const response = await this.unary('SessionService', 'Logout', {});
    this.logonRequest = null;
    return response;
  }

  /** Logs on again with the last Logon's settings; true when the session is live again. */
  async relogon(error) {
    if (!this.logonRequest || !SESSION_LOST.has(error.reason)) return false;
    try {
      await this.unary('SessionService', 'Logon', this.logonRequest);
      return true;
    } catch (err) {
      return ALREADY_LOGGED_ON.has(err.reason); // a concurrent logon won the race
    }
  }

  /** @param {OrderInput} input @returns {Promise<object>} the Order message */
  async submitOrder(input) {
    const response = await this.unary('OrderService', 'SubmitOrder', { order: orderSpec(input) });
    return response.order;
  }

  /** @param {string} clientOrderId @returns {Promise<object>} the Order message */
  async cancelOrder(clientOrderId) {
    const response = await this.unary('OrderService', 'CancelOrder', { clientOrderId });
    return response.order;
  }

  /** @param {string} clientOrderId @returns {Promise<object>} the Order message */
  async getOrder(clientOrderId) {
    const response = await this.unary('OrderService', 'GetOrder', { clientOrderId });
    return response.order;
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
        // A resuming stream waits for the gateway to come back rather than failing fast.
        const call = client.stubs.ExecutionService.StreamExecutions(request, client.metadata(true));
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
          const retry = RETRYABLE.has(error.code) || (await client.relogon(error));
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

  close() {
    for (const stub of Object.values(this.stubs)) stub.close();
  }
}

module.exports = {
  KrakenGwClient,
  KrakenGwError,
  contractFiles,
  errorFromStatus,
  loadContract,
  orderSpec,
  packageDefinition,
  SERVICES,
  v1,
};
