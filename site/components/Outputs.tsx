/**
 * The output of a step, one component per kind of output event. Server-rendered at build time
 * from captured runs, and rendered by the live runner in the browser from streamed events, so a
 * live run looks exactly like the captured one.
 *
 * @module
 */
import type { ComponentChildren } from "preact";
import type { OutputEvent, PlotBlock } from "../../lessons/format.ts";
import { formatCell as formatValue } from "../../lessons/render/format.ts";
import { imageDataUrl } from "./images.ts";
import { renderMarkdown } from "./markdown.ts";
import { plotSvg } from "./plot.ts";

type Block<K extends OutputEvent["kind"]> = Extract<OutputEvent, { kind: K }>;

/** Props of {@link OutputBlocks}. */
export interface OutputBlocksProps {
  blocks: OutputEvent[];
  /** The DOM in which plots are drawn (linkedom's on the server, the page's in the browser). */
  plotDocument: Document;
}

/** All blocks of one step, in order; consecutive values are grouped in one list. */
export function OutputBlocks({ blocks, plotDocument }: OutputBlocksProps) {
  const groups: (OutputEvent | Block<"value">[])[] = [];
  for (const block of blocks) {
    const last = groups[groups.length - 1];
    if (block.kind === "value") {
      if (Array.isArray(last)) last.push(block);
      else groups.push([block]);
    } else {
      groups.push(block);
    }
  }
  return (
    <>
      {groups.map((group, i) =>
        Array.isArray(group)
          ? <ValueList key={i} values={group} />
          : <OutputBlock key={i} block={group} plotDocument={plotDocument} />
      )}
    </>
  );
}

/** One output block. */
export function OutputBlock(props: { block: OutputEvent; plotDocument: Document }) {
  const { block } = props;
  switch (block.kind) {
    case "text":
      return <TextOutput block={block} />;
    case "value":
      return <ValueList values={[block]} />;
    case "table":
      return <TableOutput block={block} />;
    case "plot":
      return <PlotOutput block={block} plotDocument={props.plotDocument} />;
    case "images":
      return <ImagesOutput block={block} />;
    case "progress":
    case "progressEnd":
      return <ProgressOutput block={block} />;
    case "summary":
      return <SummaryOutput block={block} />;
    default:
      // `step`, `plotPoints` and `progressStart` are folded into other blocks.
      return null;
  }
}

function TextOutput({ block }: { block: Block<"text"> }) {
  return <div class="out-text" dangerouslySetInnerHTML={{ __html: renderMarkdown(block.text) }} />;
}

function ValueList({ values }: { values: Block<"value">[] }) {
  return (
    <dl class="out-values">
      {values.map((value, i) => (
        <div key={i}>
          <dt>{value.label}</dt>
          <dd>
            <span class="num">{formatValue(value.value)}</span>
            {value.unit ? <span class="unit">{value.unit}</span> : null}
          </dd>
        </div>
      ))}
    </dl>
  );
}

function TableOutput({ block }: { block: Block<"table"> }) {
  const isNumeric = (column: string) => block.rows.every((row) => typeof row[column] === "number");
  return (
    <Figure class="out-table" title={block.title}>
      <div class="table-scroll">
        <table>
          <thead>
            <tr>
              {block.columns.map((column) => (
                <th key={column} scope="col" class={isNumeric(column) ? "num" : undefined}>
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {block.rows.map((row, r) => (
              <tr key={r}>
                {block.columns.map((column) => (
                  <td key={column} class={isNumeric(column) ? "num" : undefined}>
                    {row[column] === undefined ? "" : formatValue(row[column])}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Figure>
  );
}

/** Plots are drawn once per content: the markup is cached by id and number of points. */
const plotCache = new Map<string, { points: number; html: string }>();

function PlotOutput({ block, plotDocument }: { block: PlotBlock; plotDocument: Document }) {
  const points = block.series.reduce((sum, series) => sum + series.x.length, 0);
  const cacheKey = `${block.id}:${block.title}`;
  let cached = plotCache.get(cacheKey);
  if (!cached || cached.points !== points) {
    cached = { points, html: plotSvg(block, plotDocument) };
    plotCache.set(cacheKey, cached);
  }
  return (
    <Figure class="out-plot" title={block.title}>
      <div class="plot" dangerouslySetInnerHTML={{ __html: cached.html }} />
    </Figure>
  );
}

/** Forgets the drawn plots (a new live run reuses plot ids). */
export function clearPlotCache(): void {
  plotCache.clear();
}

function ImagesOutput({ block }: { block: Block<"images"> }) {
  const columns = block.columns ?? Math.min(block.images.length, 8);
  // Each image is scaled up (pixelated, by a whole factor) to about 64 pixels, so that a 3x3
  // filter is as visible as a 28x28 sample.
  const scaleOf = (image: { width: number; height: number }) =>
    Math.max(1, Math.min(24, Math.round(64 / Math.max(1, image.width, image.height))));
  return (
    <Figure class="out-images" title={block.title}>
      <div class="image-grid" style={{ "--columns": String(columns) }}>
        {block.images.map((image, i) => (
          <figure key={i}>
            <img
              src={imageDataUrl(image, block.colormap)}
              width={image.width * scaleOf(image)}
              height={image.height * scaleOf(image)}
              alt={image.label ?? `${block.title} ${i + 1}`}
            />
            {image.label ? <figcaption>{image.label}</figcaption> : null}
          </figure>
        ))}
      </div>
    </Figure>
  );
}

function ProgressOutput({ block }: { block: Block<"progress"> | Block<"progressEnd"> }) {
  const info = { ...block.info };
  const label = String(info.label ?? "");
  const total = Number(info.total ?? 0);
  delete info.label;
  delete info.total;
  const done = block.kind === "progress" ? block.done : total;
  const finished = block.kind === "progressEnd";
  return (
    <div class={finished ? "out-progress done" : "out-progress"}>
      <span class="label">{label}</span>
      <progress value={done} max={total || 1}>{done}/{total}</progress>
      <span class="count">{done}/{total}</span>
      {Object.entries(info).map(([key, value]) => (
        <span class="info" key={key}>
          {key} <span class="num">{formatValue(value)}</span>
        </span>
      ))}
    </div>
  );
}

function SummaryOutput({ block }: { block: Block<"summary"> }) {
  return (
    <aside class="out-summary">
      <h3>What this lesson showed</h3>
      <dl>
        {block.facts.map((fact, i) => (
          <div key={i}>
            <dt>{fact.label}</dt>
            <dd>{fact.value}</dd>
          </div>
        ))}
      </dl>
    </aside>
  );
}

/** An error raised by a step, shown where its output would be. */
export function ErrorOutput({ message, detail }: { message: string; detail?: string }) {
  return (
    <div class="out-error" role="alert">
      <strong>Error:</strong> {message}
      {detail ? <pre>{detail}</pre> : null}
    </div>
  );
}

function Figure(props: { class: string; title?: string; children: ComponentChildren }) {
  return (
    <figure class={`out-figure ${props.class}`}>
      {props.title ? <figcaption>{props.title}</figcaption> : null}
      {props.children}
    </figure>
  );
}
