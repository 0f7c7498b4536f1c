import { createRequire } from 'node:module';

interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
  average: number;
  max: number;
}
interface AutocannonResult {
  duration: number;
  latency: Percentiles;
  requests: Percentiles & { total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface RawRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  timeout: number;
  overallRate?: number;
  method: string;
  headers: Record<string, string>;
  requests: { setupRequest: (request: RawRequest) => RawRequest; onResponse: (status: number, body: string) => void }[];
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  /** Non-2xx answers, socket errors, timeouts, and 200 answers that carry GraphQL errors or fail `check`. */
  readonly failures: number;
  readonly firstFailure?: string;
}

export interface LoadOptions {
  readonly url: string;
  readonly seconds: number;
  readonly connections: number;
  /** Requests per second over all connections (autocannon's `overallRate`); unset: as fast as answers come. */
  readonly rate?: number;
  readonly headers?: Record<string, string>;
  /** A fresh request body for every request. */
  readonly body: () => string;
  /** Whether a 200 answer's body is right (default: it has no `errors`). */
  readonly check?: (body: string) => boolean;
}

/** POSTs bodies from `body()` for `seconds` over `connections` connections with autocannon, in this process. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let bad = 0;
  let firstFailure: string | undefined;
  const check = options.check ?? ((body: string) => !body.includes('"errors"'));
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    timeout: 10,
    ...(options.rate ? { overallRate: options.rate } : {}),
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: options.body() }),
        onResponse: (status, body) => {
          if (status === 200 && check(body)) return;
          bad += 1;
          firstFailure ??= `${status} ${body.slice(0, 300)}`;
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.total / result.duration,
    requests: result.requests.total,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    p999Ms: result.latency.p99_9,
    failures: bad + result.errors + result.timeouts,
    ...(firstFailure ? { firstFailure } : {}),
  };
}
