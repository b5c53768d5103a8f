/**
 * Starts the inference server of `handler.ts` with `Deno.serve`, for `deno task serve`, the tests
 * and a lesson that measures a server on this machine.
 *
 * @module
 */
import { createHandler, type HandlerOptions, type ServableModel } from "./handler.ts";
import { type LoadOptions, type LoadReport, measureLoad } from "./load.ts";

/** Options of {@link startServer}. */
export interface ServerOptions extends HandlerOptions {
  /** The port (default 8000; 0 picks a free one). */
  port?: number;
  /** The address to listen on (default 127.0.0.1: this machine only). */
  hostname?: string;
  /** Called once the server listens, with its URL (default: prints one line). */
  onListen?: (url: string) => void;
}

/** A running server. */
export interface RunningServer {
  /** Its base URL, `http://127.0.0.1:PORT`. */
  url: string;
  port: number;
  /** Stops it, letting requests in flight finish. */
  stop(): Promise<void>;
}

/**
 * Serves `served` over HTTP: `POST /predict`, `GET /health` (see `handler.ts`).
 *
 * @example
 * ```ts ignore
 * const served = await loadServedModel(new URL("../data/serve/fashion-cnn.json", import.meta.url));
 * const server = startServer(served, { port: 0, onListen() {} });
 * const report = await measureLoad(`${server.url}/predict`, { body: JSON.stringify(image) });
 * await server.stop();
 * ```
 */
export function startServer(served: ServableModel, options: ServerOptions = {}): RunningServer {
  const { port = 8000, hostname = "127.0.0.1", onListen, ...handlerOptions } = options;
  const { config } = served;
  const server = Deno.serve({
    port,
    hostname,
    onListen(address) {
      const url = `http://${address.hostname}:${address.port}`;
      if (onListen) onListen(url);
      else {
        console.log(
          `serving ${config.name} (${config.classes.length} classes, input [${config.input}]) ` +
            `on ${url}/: POST /predict, GET /health`,
        );
      }
    },
  }, createHandler(served, handlerOptions));
  const actualPort = server.addr.port;
  return {
    url: `http://${hostname}:${actualPort}`,
    port: actualPort,
    stop: () => server.shutdown(),
  };
}

/**
 * Starts a server for `served` on a free port of 127.0.0.1, sends it a bounded load (default
 * 2,000 requests, 32 at a time) and stops it: the requests/s and p50/p99 latency of serving this
 * model on this machine, in one call.
 *
 * @param served the model to serve
 * @param options the request body (a JSON image or PNG bytes) and the counts
 * @returns what {@link measureLoad} measured
 */
export async function measureServing(
  served: ServableModel,
  options: LoadOptions,
): Promise<LoadReport> {
  const server = startServer(served, { port: 0, onListen() {} });
  try {
    return await measureLoad(`${server.url}/predict`, options);
  } finally {
    await server.stop();
  }
}
