/**
 * A bounded load run against an inference server: a fixed number of requests, a fixed number in
 * flight at once, and the numbers a deployment is judged by (requests per second, median and
 * 99th-percentile latency, errors).
 *
 * Point it only at a server on this machine (`127.0.0.1`): it sends as fast as the server
 * answers.
 *
 * @module
 */

/** Options of {@link measureLoad}. */
export interface LoadOptions {
  /** The request body sent each time (a JSON string or PNG bytes). */
  body: string | Uint8Array<ArrayBuffer>;
  /** Its content type (default `application/json`). */
  contentType?: string;
  /** How many requests in all (default 2,000). */
  requests?: number;
  /** How many in flight at once (default 32). */
  concurrency?: number;
  /** Give up on one request after this long (default 10 s): it counts as an error. */
  timeoutMs?: number;
}

/** What {@link measureLoad} measured. */
export interface LoadReport {
  requests: number;
  concurrency: number;
  /** Requests that did not get a 200 (or failed outright). */
  errors: number;
  /** The first error's description, when there was one. */
  firstError: string | null;
  /** Wall-clock time of the whole run. */
  seconds: number;
  requestsPerSecond: number;
  /** Median latency of one request, in milliseconds. */
  p50Ms: number;
  /** 99th-percentile latency, in milliseconds: 1 request in 100 took longer. */
  p99Ms: number;
  /** The slowest request. */
  maxMs: number;
}

/**
 * Sends `requests` POST requests to `url`, `concurrency` at a time, and reports throughput and
 * latency.
 *
 * @param url the endpoint, e.g. `http://127.0.0.1:8000/predict`
 * @param options the body, and the counts (default 2,000 requests, 32 at a time)
 * @returns requests/s, p50 and p99 latency, and the number of errors
 */
export async function measureLoad(url: string | URL, options: LoadOptions): Promise<LoadReport> {
  const requests = options.requests ?? 2000;
  const concurrency = Math.min(options.concurrency ?? 32, requests);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const headers = { "content-type": options.contentType ?? "application/json" };
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let next = 0;
  const fail = (what: string) => {
    errors++;
    firstError ??= what;
  };

  async function worker() {
    while (next < requests) {
      next++;
      const start = performance.now();
      try {
        const response = await fetch(url, {
          method: "POST",
          headers,
          body: options.body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        await response.arrayBuffer();
        if (response.status !== 200) fail(`HTTP ${response.status}`);
      } catch (error) {
        fail((error as Error).message);
      }
      latencies.push(performance.now() - start);
    }
  }

  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];
  return {
    requests,
    concurrency,
    errors,
    firstError,
    seconds,
    requestsPerSecond: requests / seconds,
    p50Ms: percentile(50),
    p99Ms: percentile(99),
    maxMs: latencies[latencies.length - 1],
  };
}

/** One line for a report: `2000 requests, 32 at a time: 850 requests/s, p50 35 ms, ...`. */
export function formatLoadReport(report: LoadReport): string {
  return `${report.requests} requests, ${report.concurrency} at a time: ` +
    `${report.requestsPerSecond.toFixed(0)} requests/s, p50 ${report.p50Ms.toFixed(1)} ms, ` +
    `p99 ${report.p99Ms.toFixed(1)} ms, ${report.errors} errors`;
}
