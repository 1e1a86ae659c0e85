// Type declarations of @krakengw/client (index.js). Messages are the contract's messages as
// @grpc/proto-loader decodes them: camelCase fields, enums as their names, 64-bit integers and
// decimals as strings, unset message fields null.
import * as grpc from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';

/** A decimal on the wire: a string like "0.01" (numbers are refused). */
export type Decimal = string;
/** A contract message (see proto/krakengw/v1). */
export type Message = { [field: string]: any };

/** A fill (proto Fill) as `listFills` resolves it; further fields as in the contract. */
export interface Fill extends Message {
  tradeId: string;
  clientOrderId: string;
  venueOrderId: string;
  qty: Decimal;
  price: Decimal;
  account: string;
  /** The session the order belongs to. Client order ids are per session, so a drop-copy or
   * risk-desk session tells two sessions' fills under one client order id apart by it. */
  sessionId: string;
}

/** A google.protobuf.Duration as decoded: whole seconds (a decimal string) and nanos. */
export interface Duration { seconds: string; nanos: number }

/** The account's pre-trade risk limits (proto RiskLimits); further fields as in the contract. */
export interface RiskLimits extends Message {
  maxOrderQty: Decimal;
  maxNotional: Decimal;
  priceBandPercent: Decimal;
  maxOpenOrders: number;
  killSwitchEngaged: boolean;
  allowNoReferencePrice: boolean;
  /** How old a market reference price may be before it counts as none. */
  referenceMaxAge: Duration | null;
  /** How long the first order of a symbol waits for its first reference price. */
  referenceWait: Duration | null;
}

/** GetLimitsResponse; further fields as in the contract. */
export interface Limits extends Message {
  rateBudgets: Message[];
  riskLimits: RiskLimits;
}

export interface OrderInput {
  symbol: string;
  side: 'buy' | 'sell' | string;
  qty?: Decimal;
  price?: Decimal;
  stopPrice?: Decimal;
  orderType?: string;
  timeInForce?: string;
  clientOrderId?: string;
  venue?: string;
  postOnly?: boolean;
  reduceOnly?: boolean;
  displayQty?: Decimal;
  cashOrderQty?: Decimal;
  leverage?: Decimal;
  deadline?: Date;
  expireTime?: Date;
  validateOnly?: boolean;
}

export interface AmendInput {
  qty?: Decimal;
  price?: Decimal;
  stopPrice?: Decimal;
  displayQty?: Decimal;
  trailingOffset?: Decimal;
  limitOffset?: Decimal;
  postOnly?: boolean;
  deadline?: Date;
}

/** An order by client order id, or by the venue's order id. */
export type OrderRef = string | { clientOrderId?: string; venueOrderId?: string };
export interface InstrumentFilter { symbol?: string; venue?: string }
export interface TimeRange { start?: Date; end?: Date }

export interface ClientOptions {
  credentials?: grpc.ChannelCredentials;
  timeoutMs?: number;
  waitForReady?: boolean;
  channelOptions?: grpc.ChannelOptions;
  /** A fleet client (several addresses): how many times one call may move (default 60). */
  maxMoves?: number;
}

export interface ClosableStream<T> extends AsyncIterableIterator<T> {
  close(): Promise<IteratorResult<T>>;
}

export interface ExecutionStream extends ClosableStream<Message> {
  /** The sequence of the last report yielded (a decimal string); resume from it. */
  readonly lastSequence: string;
}

export class KrakenGwError extends Error {
  constructor(code: number, message: string, info?: { reason?: string; domain?: string; metadata?: Record<string, string> });
  /** grpc.status value */
  code: number;
  /** e.g. "NOT_FOUND" */
  codeName: string;
  /** The ErrorInfo reason without ERROR_REASON_, e.g. "ORDER_NOT_FOUND"; "" when none. */
  reason: string;
  domain: string;
  metadata: Record<string, string>;
}

export class OrderEntry {
  submitOrder(input: OrderInput): Promise<Message>;
  submitOrderBatch(inputs: OrderInput[]): Promise<Array<Message | KrakenGwError>>;
  amendOrder(ref: OrderRef, changes: AmendInput): Promise<Message>;
  replaceOrder(origClientOrderId: string, input: OrderInput): Promise<Message>;
  cancelOrder(ref: OrderRef): Promise<Message>;
  cancelOrderBatch(clientOrderIds: string[]): Promise<Array<Message | KrakenGwError>>;
  cancelAllOrders(filter?: InstrumentFilter): Promise<number>;
  close(): void;
}

export class KrakenGwClient {
  /** `target`: one address, or every gateway of a fleet (calls follow the session). */
  constructor(target: string | string[], token: string, options?: ClientOptions);
  /** The address calls go to now. */
  readonly target: string;
  readonly targets: string[];

  /** `takeover: true` replaces a live logon of the same session (e.g. after a crash).
   * `heartbeatIntervalMs` asks for a heartbeat interval (default: the gateway's); with
   * `heartbeats` (default true) the client calls heartbeat() on its own twice per interval
   * while connected, until logout() or close() (an unref'd timer: it never keeps the process
   * alive). The gateway ends a session it hears nothing from for two intervals, open streams
   * or not. */
  logon(options?: {
    cancelOnDisconnect?: boolean;
    clientName?: string;
    takeover?: boolean;
    heartbeatIntervalMs?: number;
    heartbeats?: boolean;
  }): Promise<Message>;
  heartbeat(testRequestId?: string): Promise<Message>;
  /** Resolves to the LogoutResponse ({canceledCount}). */
  logout(): Promise<Message>;

  submitOrder(input: OrderInput): Promise<Message>;
  submitOrderBatch(inputs: OrderInput[]): Promise<Array<Message | KrakenGwError>>;
  amendOrder(ref: OrderRef, changes: AmendInput): Promise<Message>;
  replaceOrder(origClientOrderId: string, input: OrderInput): Promise<Message>;
  cancelOrder(ref: OrderRef): Promise<Message>;
  cancelOrderBatch(clientOrderIds: string[]): Promise<Array<Message | KrakenGwError>>;
  cancelAllOrders(filter?: InstrumentFilter): Promise<number>;
  getOrder(ref: OrderRef): Promise<Message>;
  listOpenOrders(filter?: InstrumentFilter): Promise<Message[]>;
  listOrders(filter?: InstrumentFilter & TimeRange): Promise<Message[]>;
  orderEntry(): OrderEntry;

  streamExecutions(options?: {
    fromSequence?: string | number;
    dropCopy?: boolean;
    maxAttempts?: number;
    maxBatch?: number;
  }): ExecutionStream;
  listFills(filter?: InstrumentFilter & TimeRange & { clientOrderId?: string }): Promise<Fill[]>;

  listBalances(filter?: { wallet?: string }): Promise<Message[]>;
  listPositions(filter?: InstrumentFilter): Promise<Message[]>;
  streamBalances(): ClosableStream<Message>;
  streamPositions(): ClosableStream<Message>;
  listSubaccounts(): Promise<Message[]>;
  transferFunds(transfer: {
    asset: string;
    amount: Decimal;
    fromAccount: string;
    toAccount: string;
    clientTransferId?: string;
  }): Promise<Message>;
  getLimits(): Promise<Limits>;
  engageKillSwitch(reason?: string): Promise<number>;
  releaseKillSwitch(): Promise<void>;

  listInstruments(filter?: { venue?: string; productType?: string }): Promise<Message[]>;
  getTicker(symbol: string, options?: { venue?: string }): Promise<Message>;
  streamBook(symbol: string, options?: { venue?: string; depth?: number }): ClosableStream<Message>;
  streamTrades(symbol: string, options?: { venue?: string }): ClosableStream<Message>;

  /** The metadata this client sends (bearer token and, once logged on, the logon id), for
   * calls through raw stubs. It holds the token: never log it. */
  callMetadata(): unknown;
  /** Logs out if logged on (ignoring a session that is already gone), then closes. */
  logoutAndClose(): Promise<void>;
  /** Closes the channels and stops the heartbeats without logging out (the session then
   * times out). */
  close(): void;
}

export const SERVICES: readonly string[];
export const packageDefinition: PackageDefinition;
export const v1: grpc.GrpcObject;
export function contractFiles(): string[];
export function loadContract(): PackageDefinition;
export function orderSpec(input: OrderInput): Message;
export function amendRequest(ref: OrderRef, changes?: AmendInput): Message;
export function errorFromStatus(status: Message, secret?: string): KrakenGwError;
