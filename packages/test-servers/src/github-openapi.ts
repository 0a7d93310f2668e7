import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/**
 * Validation of REST exchanges against GitHub's official OpenAPI description (the
 * `@octokit/openapi` package, `api.github.com.json`), so a local server imitating GitHub cannot
 * drift from GitHub's shapes: the path and method must be an operation, the query parameters
 * documented for it, the status documented (see the exceptions below), the media type documented,
 * and a JSON body must match the response schema (types, required properties, nullable, enums,
 * oneOf/anyOf/allOf, nested to the leaves).
 *
 * Exceptions, each a documented GitHub behaviour the description does not spell out per operation:
 * - 304 Not Modified to a conditional request (If-None-Match), with no body ("conditional
 *   requests" in GitHub's REST docs);
 * - 401 Bad credentials, and 403/429 rate-limit answers, whose bodies must be a `basic-error`;
 * - a raw media type (`application/vnd.github.raw...`) where the operation's description lists it
 *   (the blob endpoint does: "Returns the raw blob data").
 */

// biome-ignore lint/suspicious/noExplicitAny: a JSON document of arbitrary shape
type Json = any;

interface Operation {
  readonly template: string;
  readonly pattern: RegExp;
  readonly method: string;
  readonly op: Json;
  readonly literalLength: number;
}

let spec: Json | undefined;
let operations: Operation[] | undefined;

function loadSpec(): Json {
  if (spec) return spec;
  const require = createRequire(import.meta.url);
  const file = require.resolve("@octokit/openapi/generated/api.github.com.json");
  spec = JSON.parse(readFileSync(file, "utf8"));
  return spec;
}

function resolveRef(node: Json): Json {
  let current = node;
  const seen = new Set<string>();
  while (current && typeof current === "object" && typeof current.$ref === "string") {
    const ref: string = current.$ref;
    if (seen.has(ref)) throw new Error(`OpenAPI: circular $ref ${ref}`);
    seen.add(ref);
    if (!ref.startsWith("#/")) throw new Error(`OpenAPI: external $ref ${ref}`);
    current = ref
      .slice(2)
      .split("/")
      .reduce((obj: Json, key: string) => obj?.[key.replace(/~1/g, "/").replace(/~0/g, "~")], loadSpec());
    if (current === undefined) throw new Error(`OpenAPI: unresolved $ref ${ref}`);
  }
  return current;
}

function loadOperations(): Operation[] {
  if (operations) return operations;
  const list: Operation[] = [];
  for (const [template, item] of Object.entries(loadSpec().paths as Record<string, Json>)) {
    for (const method of ["get", "post", "put", "patch", "delete", "head"]) {
      const op = item[method];
      if (!op) continue;
      const params: Json[] = [...(item.parameters ?? []), ...(op.parameters ?? [])].map(resolveRef);
      const source = template
        .split(/(\{[^}]+\})/)
        .map((part) => {
          const name = /^\{([^}]+)\}$/.exec(part)?.[1];
          if (!name) return part.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
          const param = params.find((p) => p.in === "path" && p.name === name);
          return param?.["x-multi-segment"] ? "(.+)" : "([^/]+)";
        })
        .join("");
      list.push({
        template,
        pattern: new RegExp(`^${source}$`),
        method: method.toUpperCase(),
        op: { ...op, parameters: params },
        literalLength: template.replace(/\{[^}]+\}/g, "").length,
      });
    }
  }
  // Prefer the most literal template (`/git/trees/{sha}` over `/{path}`-style catch-alls).
  list.sort((a, b) => b.literalLength - a.literalLength);
  operations = list;
  return list;
}

/** The operation of a request, or undefined when the description has none. */
export function findGitHubOperation(
  method: string,
  path: string,
): { template: string; operationId: string } | undefined {
  const found = loadOperations().find((o) => o.method === method.toUpperCase() && o.pattern.test(path));
  return found ? { template: found.template, operationId: found.op.operationId } : undefined;
}

/** One request and its response, as seen on the wire. */
export interface GitHubExchange {
  readonly method: string;
  /** The path without the query string, percent-encoded as sent. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly requestHeaders: Readonly<Record<string, string | string[] | undefined>>;
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Uint8Array;
}

/** The problems of one exchange (empty when it conforms). */
export function validateGitHubExchange(exchange: GitHubExchange): string[] {
  const problems: string[] = [];
  const where = `${exchange.method} ${exchange.path}`;
  const operation = loadOperations().find(
    (o) => o.method === exchange.method.toUpperCase() && o.pattern.test(exchange.path),
  );
  if (!operation) return [`${where}: no operation in GitHub's OpenAPI description`];
  const documentedQuery = new Set(
    (operation.op.parameters as Json[]).filter((p) => p.in === "query").map((p) => p.name as string),
  );
  for (const name of exchange.query.keys()) {
    if (!documentedQuery.has(name)) problems.push(`${where}: query parameter ${name} is not documented`);
  }
  const status = exchange.status;
  const mediaType = exchange.contentType?.split(";")[0]?.trim().toLowerCase();
  if (status === 304) {
    if (!exchange.requestHeaders["if-none-match"] && !exchange.requestHeaders["if-modified-since"]) {
      problems.push(`${where}: 304 to a request that was not conditional`);
    }
    if (exchange.body.length > 0) problems.push(`${where}: 304 with a body`);
    return problems;
  }
  let response = operation.op.responses?.[String(status)] ?? operation.op.responses?.default;
  if (!response && [401, 403, 429].includes(status)) {
    response = { content: { "application/json": { schema: { $ref: "#/components/schemas/basic-error" } } } };
  }
  if (!response)
    return [...problems, `${where}: status ${status} is not documented for ${operation.template}`];
  response = resolveRef(response);
  const content: Record<string, Json> = response.content ?? {};
  if (Object.keys(content).length === 0) {
    if (exchange.body.length > 0) problems.push(`${where}: status ${status} has no documented body`);
    return problems;
  }
  if (!mediaType) return [...problems, `${where}: response without a content-type`];
  if (mediaType.startsWith("application/vnd.github.raw")) {
    const description: string = operation.op.description ?? "";
    if (!description.includes("application/vnd.github.raw")) {
      problems.push(`${where}: a raw media type is not documented for ${operation.template}`);
    }
    return problems;
  }
  const entry = content[mediaType];
  if (!entry) {
    return [
      ...problems,
      `${where}: media type ${mediaType} is not documented (documented: ${Object.keys(content).join(", ")})`,
    ];
  }
  const schema = entry.schema;
  if (!schema) return problems;
  if (mediaType === "application/json" || mediaType.endsWith("+json")) {
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(exchange.body).toString("utf8"));
    } catch {
      return [...problems, `${where}: the body is not JSON`];
    }
    for (const p of validateSchema(schema, value, "body")) problems.push(`${where}: ${p}`);
  } else {
    const text = Buffer.from(exchange.body).toString("utf8");
    for (const p of validateSchema(schema, text, "body")) problems.push(`${where}: ${p}`);
  }
  return problems;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** Validates `value` against an OpenAPI 3.0 schema; returns the problems with their JSON paths. */
export function validateSchema(schemaOrRef: Json, value: unknown, at: string): string[] {
  const schema = resolveRef(schemaOrRef);
  if (!schema || typeof schema !== "object") return [];
  if (value === null) {
    if (schema.nullable === true) return [];
    if (schema.oneOf || schema.anyOf) {
      const options: Json[] = (schema.oneOf ?? schema.anyOf).map(resolveRef);
      if (options.some((o) => o.nullable === true || o.type === "null")) return [];
    }
    if (schema.allOf) return (schema.allOf as Json[]).flatMap((s) => validateSchema(s, value, at));
    if (schema.type === undefined && !schema.oneOf && !schema.anyOf) return [];
    return [`${at}: null is not allowed`];
  }
  const problems: string[] = [];
  if (schema.allOf) for (const s of schema.allOf) problems.push(...validateSchema(s, value, at));
  if (schema.oneOf || schema.anyOf) {
    const options: Json[] = schema.oneOf ?? schema.anyOf;
    const results = options.map((s) => validateSchema(s, value, at));
    const passing = results.filter((r) => r.length === 0).length;
    if (passing === 0) {
      problems.push(`${at}: matches none of ${options.length} alternatives (${results[0]?.[0] ?? ""})`);
    }
  }
  const actual = typeOf(value);
  if (schema.type) {
    const ok = schema.type === actual || (schema.type === "number" && actual === "integer");
    if (!ok) return [...problems, `${at}: expected ${schema.type}, got ${actual}`];
  }
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) {
    problems.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if (actual === "string" && typeof value === "string") {
    if (schema.format === "uri" && !/^[a-z][a-z0-9+.-]*:/i.test(value)) {
      problems.push(`${at}: ${JSON.stringify(value)} is not a URI`);
    }
    if (schema.format === "date-time" && Number.isNaN(Date.parse(value))) {
      problems.push(`${at}: ${JSON.stringify(value)} is not a date-time`);
    }
    if (schema.pattern && !new RegExp(schema.pattern).test(value)) {
      problems.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    }
  }
  if (actual === "object" && typeof value === "object") {
    const record = value as Record<string, unknown>;
    for (const name of (schema.required as string[] | undefined) ?? []) {
      if (!(name in record)) problems.push(`${at}: required property ${name} is missing`);
    }
    const properties: Record<string, Json> = schema.properties ?? {};
    for (const [name, child] of Object.entries(record)) {
      if (properties[name]) problems.push(...validateSchema(properties[name], child, `${at}.${name}`));
      else if (schema.additionalProperties === false) {
        problems.push(`${at}: property ${name} is not allowed`);
      } else if (typeof schema.additionalProperties === "object") {
        problems.push(...validateSchema(schema.additionalProperties, child, `${at}.${name}`));
      }
    }
  }
  if (actual === "array" && Array.isArray(value) && schema.items) {
    value.forEach((item, i) => {
      problems.push(...validateSchema(schema.items, item, `${at}[${i}]`));
    });
  }
  return problems;
}
