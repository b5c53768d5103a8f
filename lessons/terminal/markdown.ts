/**
 * A lesson's prose (a little Markdown with `$...$` math) made readable in a terminal: emphasis
 * markers dropped, code and math coloured, LaTeX turned into Unicode text (`\frac{a}{b}` as
 * `a/b`, `x^2` as `x²`, `\partial` as `∂`), paragraphs wrapped to the terminal's width.
 *
 * @module
 */

import { type Paint, wrap } from "./style.ts";

const SYMBOLS: Record<string, string> = {
  alpha: "α",
  beta: "β",
  gamma: "γ",
  delta: "δ",
  epsilon: "ε",
  varepsilon: "ε",
  zeta: "ζ",
  eta: "η",
  theta: "θ",
  iota: "ι",
  kappa: "κ",
  lambda: "λ",
  mu: "μ",
  nu: "ν",
  xi: "ξ",
  pi: "π",
  rho: "ρ",
  sigma: "σ",
  tau: "τ",
  phi: "φ",
  varphi: "φ",
  chi: "χ",
  psi: "ψ",
  omega: "ω",
  Gamma: "Γ",
  Delta: "Δ",
  Theta: "Θ",
  Lambda: "Λ",
  Xi: "Ξ",
  Pi: "Π",
  Sigma: "Σ",
  Phi: "Φ",
  Psi: "Ψ",
  Omega: "Ω",
  cdot: "·",
  times: "×",
  div: "÷",
  pm: "±",
  sum: "Σ",
  prod: "Π",
  int: "∫",
  partial: "∂",
  nabla: "∇",
  infty: "∞",
  le: "≤",
  leq: "≤",
  ge: "≥",
  geq: "≥",
  ne: "≠",
  neq: "≠",
  approx: "≈",
  sim: "~",
  equiv: "≡",
  propto: "∝",
  to: "→",
  rightarrow: "→",
  Rightarrow: "⇒",
  leftarrow: "←",
  gets: "←",
  mapsto: "↦",
  in: "∈",
  notin: "∉",
  subset: "⊂",
  forall: "∀",
  exists: "∃",
  ldots: "…",
  dots: "…",
  cdots: "⋯",
  top: "ᵀ",
  circ: "∘",
  odot: "⊙",
  otimes: "⊗",
  star: "⋆",
  ast: "∗",
  mid: "|",
  lVert: "‖",
  rVert: "‖",
  "|": "‖",
  langle: "⟨",
  rangle: "⟩",
  lfloor: "⌊",
  rfloor: "⌋",
  lceil: "⌈",
  rceil: "⌉",
  quad: "  ",
  qquad: "    ",
  ",": " ",
  ";": " ",
  ":": " ",
  "!": "",
  " ": " ",
  "{": "{",
  "}": "}",
  _: "_",
  "%": "%",
  "&": "&",
  "#": "#",
  "$": "$",
  "\\": "; ",
};

/** Relations and operators: written with a space on each side. */
const SPACED = new Set([
  "cdot",
  "times",
  "div",
  "pm",
  "le",
  "leq",
  "ge",
  "geq",
  "ne",
  "neq",
  "approx",
  "sim",
  "equiv",
  "propto",
  "to",
  "rightarrow",
  "Rightarrow",
  "leftarrow",
  "gets",
  "mapsto",
  "in",
  "notin",
  "subset",
  "odot",
  "otimes",
  "circ",
]);

/** Commands that are written as words (`\log x` reads as "log x"). */
const WORDS = new Set([
  "log",
  "ln",
  "exp",
  "max",
  "min",
  "arg",
  "argmax",
  "argmin",
  "sin",
  "cos",
  "tan",
  "tanh",
  "sigmoid",
  "softmax",
  "det",
  "dim",
  "lim",
  "sup",
  "inf",
]);

/** Commands that only size or space things: dropped. */
const IGNORED = new Set([
  "left",
  "right",
  "big",
  "Big",
  "bigg",
  "Bigg",
  "bigl",
  "bigr",
  "Bigl",
  "Bigr",
  "displaystyle",
  "textstyle",
  "limits",
  "nolimits",
]);

/** Commands whose one argument is shown as it is. */
const PLAIN_ARGUMENT = new Set([
  "text",
  "textrm",
  "textbf",
  "textit",
  "mathrm",
  "mathbf",
  "mathit",
  "mathsf",
  "mathtt",
  "mathcal",
  "boldsymbol",
  "operatorname",
  "underbrace",
  "overbrace",
]);

const ACCENTS: Record<string, string> = {
  hat: "\u0302",
  widehat: "\u0302",
  bar: "\u0304",
  overline: "\u0304",
  tilde: "\u0303",
  widetilde: "\u0303",
  vec: "\u20d7",
  dot: "\u0307",
  ddot: "\u0308",
};

const DOUBLE_STRUCK: Record<string, string> = { R: "ℝ", N: "ℕ", Z: "ℤ", Q: "ℚ", C: "ℂ", E: "𝔼" };

const SUPERSCRIPTS: Record<string, string> = {
  "0": "⁰",
  "1": "¹",
  "2": "²",
  "3": "³",
  "4": "⁴",
  "5": "⁵",
  "6": "⁶",
  "7": "⁷",
  "8": "⁸",
  "9": "⁹",
  "+": "⁺",
  "-": "⁻",
  "−": "⁻",
  "=": "⁼",
  "(": "⁽",
  ")": "⁾",
  a: "ᵃ",
  b: "ᵇ",
  c: "ᶜ",
  d: "ᵈ",
  e: "ᵉ",
  f: "ᶠ",
  g: "ᵍ",
  h: "ʰ",
  i: "ⁱ",
  j: "ʲ",
  k: "ᵏ",
  l: "ˡ",
  m: "ᵐ",
  n: "ⁿ",
  o: "ᵒ",
  p: "ᵖ",
  r: "ʳ",
  s: "ˢ",
  t: "ᵗ",
  u: "ᵘ",
  v: "ᵛ",
  w: "ʷ",
  x: "ˣ",
  y: "ʸ",
  z: "ᶻ",
  A: "ᴬ",
  B: "ᴮ",
  D: "ᴰ",
  E: "ᴱ",
  G: "ᴳ",
  H: "ᴴ",
  I: "ᴵ",
  J: "ᴶ",
  K: "ᴷ",
  L: "ᴸ",
  M: "ᴹ",
  N: "ᴺ",
  O: "ᴼ",
  P: "ᴾ",
  R: "ᴿ",
  T: "ᵀ",
  U: "ᵁ",
  V: "ⱽ",
  W: "ᵂ",
  "ᵀ": "ᵀ",
  "*": "*",
  "'": "′",
};

const SUBSCRIPTS: Record<string, string> = {
  "0": "₀",
  "1": "₁",
  "2": "₂",
  "3": "₃",
  "4": "₄",
  "5": "₅",
  "6": "₆",
  "7": "₇",
  "8": "₈",
  "9": "₉",
  "+": "₊",
  "-": "₋",
  "=": "₌",
  "(": "₍",
  ")": "₎",
  a: "ₐ",
  e: "ₑ",
  h: "ₕ",
  i: "ᵢ",
  j: "ⱼ",
  k: "ₖ",
  l: "ₗ",
  m: "ₘ",
  n: "ₙ",
  o: "ₒ",
  p: "ₚ",
  r: "ᵣ",
  s: "ₛ",
  t: "ₜ",
  u: "ᵤ",
  v: "ᵥ",
  x: "ₓ",
};

/** Writes `text` with Unicode super- or subscript letters if all of them exist, else `^(text)`. */
function script(text: string, table: Record<string, string>, marker: string): string {
  const chars = [...text.replace(/\s+/g, "")];
  if (chars.length > 0 && chars.every((c) => c in table)) {
    return chars.map((c) => table[c]).join("");
  }
  return chars.length === 1 ? marker + text : `${marker}(${text})`;
}

/** True when `text` can stand as one side of a fraction without parentheses. */
function isSimple(text: string): boolean {
  return !/[\s+\-−*/=,·×]/.test(text) && [...text].length <= 12;
}

/** A tiny reader over LaTeX source, one token or brace group at a time. */
class TexReader {
  position = 0;
  constructor(readonly source: string) {}

  get done(): boolean {
    return this.position >= this.source.length;
  }

  /**
   * Reads a command name after a backslash: letters, or one other character. As in LaTeX, the
   * spaces after a name made of letters only end it (`\partial L` is "∂L").
   */
  commandName(): string {
    const rest = this.source.slice(this.position);
    const letters = /^[A-Za-z]+/.exec(rest);
    const name = letters ? letters[0] : rest.slice(0, 1);
    this.position += name.length;
    if (letters) { while (this.source[this.position] === " ") this.position++; }
    return name;
  }

  /** True when the next character starts a word (a letter, a digit or a command). */
  get beforeWord(): boolean {
    return /^[A-Za-z0-9\\]/.test(this.source.slice(this.position, this.position + 1));
  }

  /** Reads an argument: a `{...}` group (without its braces), a command, or one character. */
  argument(): string {
    while (this.source[this.position] === " ") this.position++;
    const start = this.position;
    const first = this.source[this.position];
    if (first === "{") {
      let depth = 0;
      for (; this.position < this.source.length; this.position++) {
        const c = this.source[this.position];
        if (c === "\\") this.position++;
        else if (c === "{") depth++;
        else if (c === "}" && --depth === 0) break;
      }
      this.position++;
      return this.source.slice(start + 1, this.position - 1);
    }
    if (first === "\\") {
      this.position++;
      return "\\" + this.commandName();
    }
    this.position += first === undefined ? 0 : 1;
    return first ?? "";
  }
}

/**
 * Turns LaTeX math into readable Unicode text.
 *
 * @example
 * ```ts
 * import { mathToText } from "./markdown.ts";
 * mathToText("\\frac{\\partial L}{\\partial w} = 2x(wx - y)"); // "∂L/∂w = 2x(wx - y)"
 * ```
 */
export function mathToText(tex: string): string {
  const reader = new TexReader(tex);
  let out = "";
  while (!reader.done) {
    const c = tex[reader.position++];
    if (c === "\\") {
      const name = reader.commandName();
      if (name === "frac" || name === "dfrac" || name === "tfrac") {
        const top = mathToText(reader.argument());
        const bottom = mathToText(reader.argument());
        const left = isSimple(top) ? top : `(${top})`;
        const right = isSimple(bottom) ? bottom : `(${bottom})`;
        out += `${left}/${right}`;
      } else if (name === "sqrt") {
        const inner = mathToText(reader.argument());
        out += isSimple(inner) ? `√${inner}` : `√(${inner})`;
      } else if (name in ACCENTS) {
        const inner = mathToText(reader.argument());
        out += [...inner].length === 1 ? inner + ACCENTS[name] : `${name}(${inner})`;
      } else if (name === "mathbb") {
        const inner = reader.argument();
        out += DOUBLE_STRUCK[inner] ?? inner;
      } else if (PLAIN_ARGUMENT.has(name)) {
        out += mathToText(reader.argument());
      } else if (WORDS.has(name)) {
        out += reader.beforeWord ? `${name} ` : name;
      } else if (SPACED.has(name)) {
        out += ` ${SYMBOLS[name]} `;
      } else if (name in SYMBOLS) {
        out += SYMBOLS[name];
      } else if (!IGNORED.has(name)) {
        out += name;
      }
    } else if (c === "^") {
      out += script(mathToText(reader.argument()), SUPERSCRIPTS, "^");
    } else if (c === "_") {
      out += script(mathToText(reader.argument()), SUBSCRIPTS, "_");
    } else if (c === "{" || c === "}") {
      // Grouping braces do not show.
    } else if (c === "&") {
      out += " ";
    } else if (c === "~") {
      out += " ";
    } else {
      out += c;
    }
  }
  return out.replace(/ {2,}/g, " ").trim();
}

/** Options of {@link renderProse}. */
export interface ProseOptions {
  /** Wrap width in columns. */
  width: number;
  /** Colours (a no-op painter when the output is not a terminal). */
  paint: Paint;
  /** Indent of every line. */
  indent?: string;
}

/** Renders inline Markdown: emphasis, code, links and `$math$`. */
export function renderInline(text: string, paint: Paint): string {
  // Code and math first, kept aside, so that `*` and `_` inside them are not read as emphasis.
  const kept: string[] = [];
  const keep = (rendered: string) => `\u0000${kept.push(rendered) - 1}\u0000`;
  let result = text
    .replace(/`([^`]+)`/g, (_, code: string) => keep(paint(code, "cyan")))
    .replace(/\\\$/g, () => keep("$"))
    .replace(/\$([^$]+)\$/g, (_, tex: string) => keep(paint(mathToText(tex), "yellow")))
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_, label: string, url: string) => `${label} (${url})`)
    .replace(
      /\*\*([^*]+)\*\*|__([^_]+)__/g,
      (_, a?: string, b?: string) => paint(a ?? b ?? "", "bold"),
    )
    .replace(
      /(^|[^\w*])\*([^*\s][^*]*)\*/g,
      (_, before: string, inner: string) => before + paint(inner, "italic"),
    )
    .replace(
      /(^|[^\w])_([^_\s][^_]*)_(?!\w)/g,
      (_, before: string, inner: string) => before + paint(inner, "italic"),
    );
  // deno-lint-ignore no-control-regex
  result = result.replace(/\u0000(\d+)\u0000/g, (_, index: string) => kept[Number(index)]);
  return result;
}

/**
 * Renders a step's prose for the terminal: paragraphs wrapped, lists with hanging indents,
 * headings in bold, display math and code blocks on their own indented lines.
 */
export function renderProse(markdown: string, options: ProseOptions): string[] {
  const { width, paint } = options;
  const indent = options.indent ?? "";
  const lines = markdown.replace(/\r\n/g, "\n").split("\n");
  const out: string[] = [];
  let paragraph: string[] = [];
  let listItem: { marker: string; text: string[] } | undefined;

  const blank = () => {
    if (out.length > 0 && out[out.length - 1] !== "") out.push("");
  };
  const flush = () => {
    if (paragraph.length) {
      out.push(...wrap(renderInline(paragraph.join(" "), paint), width, indent));
      paragraph = [];
    }
    if (listItem) {
      const hanging = indent + " ".repeat(listItem.marker.length + 1);
      const first = `${indent}${listItem.marker} `;
      out.push(...wrap(renderInline(listItem.text.join(" "), paint), width, hanging, first));
      listItem = undefined;
    }
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const trimmed = line.trim();
    if (trimmed.startsWith("```")) {
      flush();
      blank();
      for (i++; i < lines.length && !lines[i].trim().startsWith("```"); i++) {
        out.push(paint(`${indent}    ${lines[i]}`, "cyan"));
      }
      blank();
      continue;
    }
    if (trimmed.startsWith("$$")) {
      flush();
      // Display math: everything up to the closing $$, which may be on a later line.
      let tex = trimmed.slice(2);
      while (!tex.includes("$$") && i + 1 < lines.length) tex += " " + lines[++i].trim();
      const [math, after = ""] = tex.split("$$");
      blank();
      out.push(paint(`${indent}    ${mathToText(math)}`, "yellow"));
      blank();
      if (after.trim()) paragraph.push(after.trim());
      continue;
    }
    if (trimmed === "") {
      flush();
      blank();
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(trimmed);
    if (heading) {
      flush();
      blank();
      out.push(indent + paint(renderInline(heading[2], paint), "bold"));
      continue;
    }
    const item = /^([-*+]|\d+[.)])\s+(.*)$/.exec(trimmed);
    if (item) {
      flush();
      const marker = /\d/.test(item[1]) ? item[1] : "•";
      listItem = { marker, text: [item[2]] };
      continue;
    }
    if (trimmed.startsWith(">")) {
      flush();
      const quoted = renderInline(trimmed.replace(/^>\s?/, ""), paint);
      out.push(...wrap(quoted, width, `${indent}│ `));
      continue;
    }
    if (listItem && /^\s/.test(line)) listItem.text.push(trimmed);
    else if (listItem) {
      flush();
      paragraph.push(trimmed);
    } else paragraph.push(trimmed);
  }
  flush();
  while (out.length && out[out.length - 1] === "") out.pop();
  return out;
}
