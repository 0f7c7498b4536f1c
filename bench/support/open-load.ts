import { connect, type Socket } from 'node:net';
import { quantileOfSorted, sortedSamples } from './stats.ts';

export interface OpenLoadOptions {
  /** `http://host:port/path` (plain HTTP/1.1, keep-alive). */
  readonly url: string;
  /** Requests started per second, evenly spaced over the run, whatever the answers do. */
  readonly rate: number;
  readonly seconds: number;
  /** Keep-alive connections: at most this many requests are in flight; later ones queue in the client. */
  readonly connections: number;
  readonly headers?: Record<string, string>;
  /** A fresh request body for every request. */
  readonly body: () => string;
  /** Whether a 200 answer's body is right (default: it has no `errors`). */
  readonly check?: (body: string) => boolean;
}

export interface OpenLoadResult {
  /** Answers received per second of the run. */
  readonly requestsPerSecond: number;
  readonly requests: number;
  /** Every answer, good or bad: latencies from each request's scheduled start (queueing in the client included), in ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  /** The same from the moment the request was written to its connection (the server's share). */
  readonly sentP50Ms: number;
  readonly sentP99Ms: number;
  /** Requests that waited in the client for a free connection. */
  readonly queued: number;
  readonly failures: number;
  readonly firstFailure?: string;
}

interface Pending {
  readonly scheduledAt: number;
  sentAt: number;
}

/**
 * An open-loop load at a constant rate, as wrk2 offers it: request k is due at `k / rate`
 * seconds after the start and starts then on a free connection (or waits in the client for
 * one), and its latency counts from when it was due. Free connections are used in turn, and
 * one the server closes is replaced (a request in flight on it counts as failed), so a
 * connection left idle past the server's keep-alive timeout never swallows a request. autocannon's `overallRate` is not this:
 * it lets each connection send as fast as answers come until it has made its share of the
 * second, then idles until the next second, so the server sees bursts at saturation, and it
 * records each latency with synthetic samples every millisecond below it (its correction for
 * coordinated omission, with an expected interval of 1 ms), which lowers the median and
 * raises nothing real. Answers are read with `content-length` or chunked framing.
 */
export async function runOpenLoad(options: OpenLoadOptions): Promise<OpenLoadResult> {
  const target = new URL(options.url);
  const check = options.check ?? ((body: string) => !body.includes('"errors"'));
  // The request head up to its length, the same for every request: built once, not per request.
  const headStart = `POST ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\ncontent-type: application/json\r\n${Object.entries(
    options.headers ?? {},
  )
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}content-length: `;
  const latencies: number[] = [];
  const served: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  let queued = 0;
  const fail = (why: string) => {
    failures += 1;
    firstFailure ??= why;
  };

  /** Free connections, used in turn (first freed, first used), so none sits idle long enough for the server's keep-alive timeout. */
  const idle: Conn[] = [];
  const waiting: Pending[] = [];
  /** Requests that ended without an answer: their connection closed while they were in flight. */
  let lost = 0;
  const settled = () => latencies.length + lost;
  const startNext = (conn: Conn) => {
    const next = waiting.shift();
    if (next) conn.send(next);
    else idle.push(conn);
  };
  class Conn {
    readonly socket: Socket;
    readonly ready: Promise<unknown>;
    buffer: Buffer = Buffer.alloc(0);
    current: Pending | undefined;
    constructor() {
      this.socket = connect(Number(target.port), target.hostname);
      this.socket.setNoDelay(true);
      this.ready = new Promise((resolve, reject) => this.socket.once('connect', resolve).once('error', reject));
      this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
      this.socket.on('error', (error) => fail(`socket: ${error.message}`));
      this.socket.on('close', () => this.onClose());
    }
    send(request: Pending): void {
      this.current = request;
      request.sentAt = performance.now();
      // One string, one write: the bytes are those of the head and body sent as two buffers joined before.
      const body = options.body();
      this.socket.write(`${headStart}${Buffer.byteLength(body)}\r\n\r\n${body}`);
    }
    onData(chunk: Buffer): void {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const answer = parseResponse(this.buffer);
        if (!answer) return;
        this.buffer = this.buffer.subarray(answer.length);
        const request = this.current;
        this.current = undefined;
        const now = performance.now();
        if (request) {
          latencies.push(now - request.scheduledAt);
          served.push(now - request.sentAt);
        }
        if (answer.status !== 200 || !check(answer.body)) fail(`${answer.status} ${answer.body.slice(0, 300)}`);
        startNext(this);
      }
    }
    /**
     * The server closed the connection (its keep-alive timeout, or a failure): a request in
     * flight on it is lost and counted as a failure; the connection is replaced, as a client's
     * connection pool would, unless the run is over.
     */
    onClose(): void {
      const at = idle.indexOf(this);
      if (at >= 0) idle.splice(at, 1);
      if (this.current) {
        this.current = undefined;
        lost += 1;
        fail('the connection closed before the answer');
      }
      if (finished) return;
      const replacement = new Conn();
      replacement.ready.then(
        () => startNext(replacement),
        () => {},
      );
      conns.push(replacement);
    }
  }
  let finished = false;

  const conns = Array.from({ length: options.connections }, () => new Conn());
  await Promise.all(conns.map((c) => c.ready));
  idle.push(...conns);

  const total = Math.round(options.rate * options.seconds);
  const interval = 1000 / options.rate;
  const start = performance.now();
  let issued = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (issued < total && start + issued * interval <= now) {
        const request: Pending = { scheduledAt: start + issued * interval, sentAt: 0 };
        issued += 1;
        const conn = idle.shift();
        if (conn) conn.send(request);
        else {
          queued += 1;
          waiting.push(request);
        }
      }
      if (issued < total) setTimeout(tick, Math.max(0, start + issued * interval - performance.now()));
      else resolve();
    };
    tick();
  });
  // Wait for the answers still due (at most 10 s).
  const deadline = performance.now() + 10_000;
  while (settled() < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const elapsed = (performance.now() - start) / 1000;
  finished = true;
  for (const c of conns) c.socket.destroy();
  const ms = (v: number) => Math.round(v * 100) / 100;
  // Each set sorted once for all its quantiles.
  const all = sortedSamples(latencies);
  const sent = sortedSamples(served);
  return {
    requestsPerSecond: latencies.length / elapsed,
    requests: latencies.length,
    p50Ms: ms(quantileOfSorted(all, 0.5)),
    p99Ms: ms(quantileOfSorted(all, 0.99)),
    p999Ms: ms(quantileOfSorted(all, 0.999)),
    maxMs: ms(quantileOfSorted(all, 1)),
    sentP50Ms: ms(quantileOfSorted(sent, 0.5)),
    sentP99Ms: ms(quantileOfSorted(sent, 0.99)),
    queued,
    // Bad answers, socket errors, requests lost with their connection (counted once), and requests never answered.
    failures: failures + total - settled(),
    ...(firstFailure ? { firstFailure } : {}),
  };
}

/** One complete HTTP/1.1 response at the start of `data`, or undefined while it is incomplete. */
export function parseResponse(data: Buffer): { status: number; body: string; length: number } | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const header = data.subarray(0, end).toString('latin1');
  const status = Number(header.slice(9, 12));
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(header);
  if (length) {
    const total = end + 4 + Number(length[1]);
    if (data.length < total) return undefined;
    return { status, body: data.subarray(end + 4, total).toString(), length: total };
  }
  if (!/\r\ntransfer-encoding:\s*chunked/i.test(header)) throw new Error(`an answer without content-length or chunked framing: ${header}`);
  const parts: Buffer[] = [];
  let at = end + 4;
  for (;;) {
    const line = data.indexOf('\r\n', at);
    if (line < 0) return undefined;
    const size = Number.parseInt(data.subarray(at, line).toString('latin1'), 16);
    if (size === 0) {
      if (data.length < line + 4) return undefined;
      return { status, body: Buffer.concat(parts).toString(), length: line + 4 };
    }
    if (data.length < line + 2 + size + 2) return undefined;
    parts.push(data.subarray(line + 2, line + 2 + size));
    at = line + 2 + size + 2;
  }
}
