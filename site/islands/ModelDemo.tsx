/**
 * "The served model, in your browser": the model that `deno task serve` serves
 * (`lessons/data/serve/fashion-cnn.json` and its weights) runs here on a Fashion-MNIST test image
 * that the reader picks, on the GPU through WebGPU when the browser has one, else on the CPU, and
 * shows the class probabilities, as `POST /predict` answers them.
 *
 * The framework and the images are loaded on the first click only, so the page stays light.
 *
 * @module
 */
import { useEffect, useRef, useState } from "preact/hooks";

/** Props of the demo (serialized into the page as JSON). */
export interface ModelDemoProps {
  /** The relative path from the page to the site root ("../../"). */
  base: string;
  /** How many test images to offer (default 12). */
  count?: number;
}

/** A test image: its pixels in [0, 1] and its true class. */
interface Sample {
  pixels: Float32Array;
  label: number;
}

/** What the first click loads: the framework, the model and its classes, the device. */
interface Loaded {
  predict(pixels: Float32Array): Promise<number[]>;
  classes: string[];
  device: string;
  reason: string;
}

type State = "idle" | "loading" | "ready" | "error";

/** The demo: load, pick an image, read the probabilities. */
export default function ModelDemo(props: ModelDemoProps) {
  const [hydrated, setHydrated] = useState(false);
  const [state, setState] = useState<State>("idle");
  const [error, setError] = useState("");
  const [samples, setSamples] = useState<Sample[]>([]);
  const [picked, setPicked] = useState<number | null>(null);
  const [result, setResult] = useState<{ probabilities: number[]; ms: number } | null>(null);
  const loaded = useRef<Loaded | null>(null);

  useEffect(() => setHydrated(true), []);

  const load = async () => {
    setState("loading");
    try {
      const root = new URL(props.base, location.href);
      const [framework, serving] = await Promise.all([
        import("../../mod.ts"),
        import("../../lessons/serve/model.ts"),
      ]);
      const choice = await framework.pickDevice();
      const served = await serving.loadServedModel(new URL("data/serve/fashion-cnn.json", root));
      served.model.to(choice.device);
      const test = await framework.loadFashionMnist(new URL("data/fashion-mnist/", root), {
        train: false,
      });
      const pixels = await test.images.data();
      const labels = await test.labels.data();
      const count = props.count ?? 12;
      const step = Math.floor(labels.length / count);
      setSamples(Array.from({ length: count }, (_, k) => {
        const i = k * step + (k % 7);
        return {
          pixels: Float32Array.from(pixels.subarray(i * 784, (i + 1) * 784)),
          label: labels[i],
        };
      }));
      loaded.current = {
        classes: served.config.classes,
        device: choice.device,
        reason: choice.reason,
        async predict(image: Float32Array) {
          const input = framework.tensor(image, { shape: [1, 1, 28, 28] }).to(choice.device);
          const output = framework.withNoGrad(() => served.model.forward(input).softmax(1));
          return Array.from(await output.data());
        },
      };
      setState("ready");
    } catch (e) {
      setError((e as Error).message);
      setState("error");
    }
  };

  const pick = async (index: number) => {
    const model = loaded.current;
    if (!model) return;
    setPicked(index);
    setResult(null);
    const started = performance.now();
    try {
      const probabilities = await model.predict(samples[index].pixels);
      setResult({ probabilities, ms: performance.now() - started });
    } catch (e) {
      setError((e as Error).message);
      setState("error");
    }
  };

  const model = loaded.current;
  return (
    <section class="model-demo" aria-label="The served model in your browser">
      <h2>Try the served model</h2>
      <p>
        The model that <code>deno task serve</code>{" "}
        serves runs here, in your browser: pick a test image and read the probabilities that{" "}
        <code>POST /predict</code> would answer.
      </p>
      {state === "idle" || state === "loading"
        ? (
          <button type="button" disabled={!hydrated || state === "loading"} onClick={load}>
            {state === "loading" ? "Loading the model and the test images..." : "Load the model"}
          </button>
        )
        : null}
      {state === "error"
        ? <p class="error" role="alert">Could not run the model: {error}</p>
        : null}
      {state === "ready" && model
        ? (
          <>
            <p class="device">
              Running on {model.device === "webgpu" ? "the GPU (WebGPU)" : "the CPU"}
              {model.reason ? `: ${model.reason}` : ""}.
            </p>
            <div class="model-demo-images" role="group" aria-label="Test images">
              {samples.map((sample, i) => (
                <button
                  type="button"
                  class={i === picked ? "picked" : ""}
                  style={i === picked ? "outline:3px solid currentColor" : ""}
                  aria-pressed={i === picked}
                  aria-label={`test image ${i + 1} (${model.classes[sample.label]})`}
                  onClick={() => pick(i)}
                >
                  <Thumbnail pixels={sample.pixels} />
                </button>
              ))}
            </div>
            {picked !== null && result
              ? (
                <Probabilities
                  classes={model.classes}
                  probabilities={result.probabilities}
                  truth={samples[picked].label}
                  ms={result.ms}
                />
              )
              : <p>Pick an image.</p>}
          </>
        )
        : null}
    </section>
  );
}

/** A 28x28 grey image drawn on a canvas, scaled up. */
function Thumbnail(props: { pixels: Float32Array }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = canvas.current?.getContext("2d");
    if (!context) return;
    const image = context.createImageData(28, 28);
    props.pixels.forEach((value, i) => {
      const grey = Math.round(value * 255);
      image.data.set([grey, grey, grey, 255], i * 4);
    });
    context.putImageData(image, 0, 0);
  }, [props.pixels]);
  return <canvas ref={canvas} width={28} height={28} style="width:56px;height:56px" />;
}

/** The probabilities as a bar per class, the predicted one and the true one marked. */
function Probabilities(
  props: { classes: string[]; probabilities: number[]; truth: number; ms: number },
) {
  const best = props.probabilities.indexOf(Math.max(...props.probabilities));
  return (
    <div class="model-demo-result">
      <p>
        Predicted <strong>{props.classes[best]}</strong>{" "}
        ({(props.probabilities[best] * 100).toFixed(1)}%); the image is a{" "}
        {props.classes[props.truth]}. ({props.ms.toFixed(0)} ms)
      </p>
      <table>
        <tbody>
          {props.classes.map((name, i) => (
            <tr class={i === best ? "best" : ""}>
              <th scope="row">{name}</th>
              <td>
                <span
                  class="bar"
                  style={`display:inline-block;height:0.8em;background:currentColor;width:${
                    (props.probabilities[i] * 200).toFixed(1)
                  }px`}
                />
              </td>
              <td>{(props.probabilities[i] * 100).toFixed(1)}%</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
