/**
 * RFC 8785 (JCS) canonical JSON, as the inngest SDK computes it (the `canonicalize` package) for
 * request signatures: object keys sorted by UTF-16 code units, no whitespace, numbers and
 * strings serialised as ECMAScript's JSON.stringify does. Like JSON.stringify, `undefined`
 * properties are dropped, `undefined` array items become `null`, and `toJSON()` is honoured.
 * Non-finite numbers and values JSON cannot hold (bigint, a top-level function) throw.
 */
export function canonicalJson(value: unknown): string {
  const text = serialize(value);
  if (text === undefined) throw new TypeError(`cannot canonicalise a value of type ${typeof value}`);
  return text;
}

function serialize(value: unknown): string | undefined {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
    case "string":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`cannot canonicalise the number ${value}`);
      return JSON.stringify(value);
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
    case "bigint":
      throw new TypeError("cannot canonicalise a bigint");
  }
  const object = value as Record<string, unknown> & { toJSON?: unknown };
  if (typeof object.toJSON === "function") return serialize((object.toJSON as () => unknown)());
  if (Array.isArray(value)) return `[${value.map((item: unknown) => serialize(item) ?? "null").join(",")}]`;
  const members: string[] = [];
  // Default sort compares UTF-16 code units, which is what RFC 8785 asks for.
  for (const key of Object.keys(object).sort()) {
    const member = serialize(object[key]);
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${member}`);
  }
  return `{${members.join(",")}}`;
}
