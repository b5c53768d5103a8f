/**
 * Reads the source text of a lesson file: the code of each step's `run` function exactly as
 * written (comments and types kept), found with the TypeScript compiler's parser.
 *
 * @module
 */
import ts from "typescript";

/** The code of one step, as the site shows it. */
export interface StepSource {
  /** The step's title when it is a string literal in the file, else `undefined`. */
  title?: string;
  /** The body of the step's `run` function, dedented. */
  code: string;
}

/** What the site shows of a lesson file. */
export interface LessonSource {
  /** One entry a step, in the order of the `steps` array. */
  steps: StepSource[];
  /** Imports and helpers declared at the top level of the file, before the lesson. */
  preamble: string;
}

/**
 * Extracts each step's code from the text of a lesson module.
 *
 * Steps are the elements of the `steps` array of the object passed to `defineLesson` (or of the
 * default-exported object). An element may be an object literal or the name of a constant that
 * holds one. For each, the body of its `run` function (arrow function, function expression or
 * method) is returned without the enclosing braces and with the common indentation removed.
 */
export function extractLessonSource(text: string, fileName = "lesson.ts"): LessonSource {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const lessonObject = findLessonObject(file);
  if (!lessonObject) {
    throw new Error(
      `extractLessonSource: ${fileName} has no \`export default defineLesson({...})\` ` +
        "(or default-exported object with a `steps` array)",
    );
  }
  const stepsProperty = findProperty(lessonObject, "steps");
  if (!stepsProperty || !ts.isArrayLiteralExpression(stepsProperty)) {
    throw new Error(`extractLessonSource: the lesson in ${fileName} has no \`steps: [...]\` array`);
  }
  const steps = stepsProperty.elements.map((element, index) => {
    const step = resolveObject(file, element);
    if (!step) {
      throw new Error(
        `extractLessonSource: step ${index} in ${fileName} is not an object literal ` +
          "(or the name of a constant holding one)",
      );
    }
    return readStep(file, step, index, fileName);
  });
  return { steps, preamble: readPreamble(file, lessonObject) };
}

/** Finds the object literal of the lesson: `defineLesson({...})` or `export default {...}`. */
function findLessonObject(file: ts.SourceFile): ts.ObjectLiteralExpression | undefined {
  let found: ts.ObjectLiteralExpression | undefined;
  const visit = (node: ts.Node): void => {
    if (found) return;
    if (
      ts.isCallExpression(node) && ts.isIdentifier(node.expression) &&
      node.expression.text === "defineLesson" && node.arguments.length > 0
    ) {
      const argument = resolveObject(file, node.arguments[0]);
      if (argument) {
        found = argument;
        return;
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (found) return found;
  for (const statement of file.statements) {
    if (ts.isExportAssignment(statement)) {
      const object = resolveObject(file, statement.expression);
      if (object && findProperty(object, "steps")) return object;
    }
  }
  return undefined;
}

/** An object literal, or the initializer of the top-level constant that an identifier names. */
function resolveObject(
  file: ts.SourceFile,
  node: ts.Expression,
): ts.ObjectLiteralExpression | undefined {
  node = unwrap(node);
  if (ts.isObjectLiteralExpression(node)) return node;
  if (!ts.isIdentifier(node)) return undefined;
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const declaration of statement.declarationList.declarations) {
      if (
        ts.isIdentifier(declaration.name) && declaration.name.text === node.text &&
        declaration.initializer
      ) {
        const initializer = unwrap(declaration.initializer);
        if (ts.isObjectLiteralExpression(initializer)) return initializer;
        if (ts.isCallExpression(initializer) && initializer.arguments.length > 0) {
          // `const step = defineStep({...})`
          return resolveObject(file, initializer.arguments[0]);
        }
      }
    }
  }
  return undefined;
}

/** Strips parentheses, `as` casts and `satisfies` from an expression. */
function unwrap(node: ts.Expression): ts.Expression {
  while (
    ts.isParenthesizedExpression(node) || ts.isAsExpression(node) ||
    ts.isSatisfiesExpression(node)
  ) {
    node = node.expression;
  }
  return node;
}

/** The value of property `name` of an object literal (a method counts as its own value). */
function findProperty(object: ts.ObjectLiteralExpression, name: string): ts.Node | undefined {
  for (const property of object.properties) {
    const key = property.name;
    const keyText = key && (ts.isIdentifier(key) || ts.isStringLiteral(key)) ? key.text : "";
    if (keyText !== name) continue;
    if (ts.isPropertyAssignment(property)) return unwrap(property.initializer);
    if (ts.isMethodDeclaration(property)) return property;
  }
  return undefined;
}

/** Reads one step's title and the body of its `run` function. */
function readStep(
  file: ts.SourceFile,
  step: ts.ObjectLiteralExpression,
  index: number,
  fileName: string,
): StepSource {
  const titleNode = findProperty(step, "title");
  const title = titleNode && ts.isStringLiteralLike(titleNode) ? titleNode.text : undefined;
  const run = findProperty(step, "run");
  if (
    !run ||
    !(ts.isArrowFunction(run) || ts.isFunctionExpression(run) || ts.isMethodDeclaration(run))
  ) {
    throw new Error(
      `extractLessonSource: step ${index} ("${title ?? "?"}") in ${fileName} has no ` +
        "`run` function written in place; write it as `run: (out, ctx) => { ... }`",
    );
  }
  const body = run.body;
  if (!body) return { title, code: "" };
  if (ts.isBlock(body)) {
    // The text between the braces, comments included.
    const inner = file.text.slice(body.getStart(file) + 1, body.getEnd() - 1);
    return { title, code: dedent(inner) };
  }
  // An expression body: `run: (out) => out.text("hi")`.
  return { title, code: dedent(body.getText(file)) };
}

/** The top-level statements before the lesson (imports, helpers), with their comments. */
function readPreamble(file: ts.SourceFile, lessonObject: ts.Node): string {
  const parts: string[] = [];
  for (const statement of file.statements) {
    if (statement.pos <= lessonObject.pos && lessonObject.end <= statement.end) break;
    parts.push(file.text.slice(statement.getFullStart(), statement.getEnd()));
  }
  // Drop the file's leading module comment (`/** ... @module */`), which documents the file.
  const text = parts.join("").replace(/^\s*\/\*\*[\s\S]*?@module[\s\S]*?\*\/\s*/, "");
  return dedent(text);
}

/**
 * Removes blank lines at both ends and the indentation common to all non-blank lines.
 *
 * @example
 * ```ts
 * dedent("\n    a\n      b\n  ") === "a\n  b"
 * ```
 */
export function dedent(text: string): string {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  while (lines.length > 0 && lines[0].trim() === "") lines.shift();
  while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
  const indents = lines
    .filter((line) => line.trim() !== "")
    .map((line) => line.match(/^[ \t]*/)![0].length);
  const common = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((line) => line.slice(common).trimEnd()).join("\n");
}
