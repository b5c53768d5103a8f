/**
 * `deno task serve`: an inference server on this machine for a trained model.
 *
 * ```sh
 * deno task serve                      # the shipped Fashion-MNIST CNN on 127.0.0.1:8000
 * deno task serve --model lessons/data/serve/fashion-cnn.json
 * curl -s localhost:8000/health
 * curl -s -X POST -H "content-type: image/png" --data-binary @shoe.png localhost:8000/predict
 * ```
 *
 * The task runs with the least it needs: it may read the folder of served models
 * (`lessons/data/serve`) and listen on 127.0.0.1:8000, nothing else (no other files, no
 * network, no environment, no subprocesses, no remote code). To serve a model from elsewhere or
 * on another port, grant that instead, e.g.
 * `deno run --no-remote --allow-read=my-models --allow-net=127.0.0.1:9000 lessons/serve/main.ts
 * --model my-models/net.json --port 9000`.
 *
 * See `handler.ts` for the endpoints and `model.ts` for the model files.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadServedModel } from "./model.ts";
import { startServer } from "./server.ts";

const DEFAULT_MODEL = "lessons/data/serve/fashion-cnn.json";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      model: { type: "string", default: DEFAULT_MODEL },
      port: { type: "string", default: "8000" },
      hostname: { type: "string", default: "127.0.0.1" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(
      "deno task serve [--model CONFIG.json] [--port 8000] [--hostname 127.0.0.1]\n" +
        "POST /predict with a 28x28 image (JSON array in [0, 1] or PNG); GET /health",
    );
    Deno.exit(0);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve: --port must be a port number, got "${values.port}"`);
    Deno.exit(2);
  }
  const configUrl = new URL(values.model, `file://${Deno.cwd()}/`);
  let served;
  try {
    served = await loadServedModel(configUrl);
  } catch (error) {
    console.error(`serve: cannot load the model ${values.model}: ${(error as Error).message}`);
    if (/NotCapable|permission|Requires read access/i.test(String(error))) {
      console.error(
        "serve: the serve task may read only lessons/data/serve; for a model elsewhere run " +
          `deno run --no-remote --allow-read=FOLDER --allow-net=${values.hostname}:${port} ` +
          "lessons/serve/main.ts --model PATH",
      );
    }
    Deno.exit(1);
  }
  try {
    startServer(served, { port, hostname: values.hostname });
  } catch (error) {
    console.error(
      `serve: cannot listen on ${values.hostname}:${port}: ${(error as Error).message}`,
    );
    if (/NotCapable|permission|Requires net access/i.test(String(error))) {
      console.error(
        "serve: the serve task may listen only on 127.0.0.1:8000; for another address run " +
          `deno run --no-remote --allow-read=lessons/data/serve ` +
          `--allow-net=${values.hostname}:${port} lessons/serve/main.ts --port ${port}`,
      );
    }
    Deno.exit(1);
  }
}
