// The API docs page at `/docs`: the OpenAPI document the backend embeds in the page (or, failing that, fetches
// from /api-docs/openapi.json), rendered here with nothing loaded from elsewhere, and a "try it" form that
// calls the API with the session of this browser when there is one.

import { renderLocalised, t, tx } from "../i18n";
import { useMemo, useState } from "preact/hooks";
import { ApiError, call, session } from "../lib/api";
import { Loading, Notice, useLoad } from "../ui/bits";
import { LanguagePicker } from "../ui/language";
import "../styles.css";

type Json = Record<string, unknown>;
interface Operation {
  method: string;
  path: string;
  op: Json;
}

async function loadSpec(): Promise<Json> {
  const embedded = document.getElementById("openapi")?.textContent;
  if (embedded) return JSON.parse(embedded) as Json;
  const res = await fetch("/api-docs/openapi.json");
  return (await res.json()) as Json;
}

function resolve(spec: Json, schema: unknown): Json | undefined {
  const s = schema as Json | undefined;
  const ref = s?.$ref as string | undefined;
  if (!ref) return s;
  const name = ref.split("/").pop()!;
  return ((spec.components as Json)?.schemas as Json)?.[name] as Json | undefined;
}

/** A schema as a short readable type: `{ address: string, chain: "evm" | "tron" }`. */
function typeText(spec: Json, schema: unknown, depth = 0): string {
  const s = schema as Json | undefined;
  if (!s) return "any";
  if (s.$ref) {
    const name = (s.$ref as string).split("/").pop()!;
    return depth > 1 ? name : `${name} ${typeText(spec, resolve(spec, s), depth + 1)}`;
  }
  if (s.enum) return (s.enum as unknown[]).map((v) => JSON.stringify(v)).join(" | ");
  for (const k of ["oneOf", "anyOf", "allOf"]) if (s[k]) return (s[k] as unknown[]).map((x) => typeText(spec, x, depth)).join(k === "allOf" ? " & " : " | ");
  const type = Array.isArray(s.type) ? (s.type as string[]).join(" | ") : (s.type as string | undefined);
  if (type === "array" || s.items) return `${typeText(spec, s.items, depth)}[]`;
  if (s.properties) {
    if (depth > 2) return "object";
    const req = new Set((s.required as string[]) ?? []);
    const props = Object.entries(s.properties as Json).map(([k, v]) => `${k}${req.has(k) ? "" : "?"}: ${typeText(spec, v, depth + 1)}`);
    return `{ ${props.join(", ")} }`;
  }
  return type ?? "object";
}

function operations(spec: Json): Map<string, Operation[]> {
  const byTag = new Map<string, Operation[]>();
  for (const [path, item] of Object.entries((spec.paths as Json) ?? {})) {
    for (const [method, op] of Object.entries(item as Json)) {
      const tag = (((op as Json).tags as string[]) ?? ["other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push({ method, path, op: op as Json });
    }
  }
  return byTag;
}

function App() {
  const spec = useLoad(loadSpec, []);
  const [filter, setFilter] = useState("");
  const groups = useMemo(() => (spec.data ? operations(spec.data) : new Map<string, Operation[]>()), [spec.data]);
  const info = (spec.data?.info as Json) ?? {};
  const f = filter.toLowerCase();
  return (
    <>
      <header class="top">
        <h1>
          <a href="/docs">{(info.title as string) ?? "API"}</a> <span class="muted">{info.version as string}</span>
        </h1>
        <a href="/api-docs/openapi.json">{t("docs.openapi_json")}</a>
        <LanguagePicker />
      </header>
      <main id="main" data-testid="docs">
        {spec.loading && <Loading what={t("docs.the_document")} />}
        {spec.error && <Notice kind="error">{t("docs.unreadable", { message: spec.error.message })}</Notice>}
        <p>{info.description as string}</p>
        <p class="muted">
          {session()
            ? tx("docs.sent_as", { address: <bdi>{session()!.address}</bdi>, role: session()!.role })
            : t("docs.sign_in_first")}
        </p>
        <label>
          {t("docs.filter")} <input value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} placeholder={t("docs.filter_placeholder")} />
        </label>
        {[...groups.entries()].map(([tag, ops]) => {
          const shown = ops.filter((o) => !f || o.path.toLowerCase().includes(f) || JSON.stringify(o.op.description ?? "").toLowerCase().includes(f));
          if (shown.length === 0) return null;
          return (
            <section key={tag} aria-label={tag}>
              <h2>{tag}</h2>
              {shown.map((o) => (
                <OperationView key={`${o.method} ${o.path}`} spec={spec.data!} o={o} />
              ))}
            </section>
          );
        })}
      </main>
    </>
  );
}

function OperationView(props: { spec: Json; o: Operation }) {
  const { spec, o } = props;
  const params = ((o.op.parameters as Json[]) ?? []).map((p) => p);
  const body = ((o.op.requestBody as Json)?.content as Json)?.["application/json"] as Json | undefined;
  const [values, setValues] = useState<Record<string, string>>({});
  const [text, setText] = useState("{}");
  const [answer, setAnswer] = useState<{ status: string; body: string } | null>(null);
  const send = async () => {
    let path = o.path;
    const q = new URLSearchParams();
    for (const p of params) {
      const v = values[p.name as string];
      if (!v) continue;
      if (p.in === "path") path = path.replace(`{${p.name as string}}`, encodeURIComponent(v));
      else if (p.in === "query") q.set(p.name as string, v);
    }
    const url = q.toString() ? `${path}?${q}` : path;
    try {
      const parsed = body ? JSON.parse(text) : undefined;
      const r = await call<unknown>(o.method.toUpperCase(), url, parsed);
      setAnswer({ status: "200", body: JSON.stringify(r, null, 2) ?? t("docs.no_content") });
    } catch (e) {
      setAnswer(e instanceof ApiError ? { status: `${e.status} ${e.code}`, body: e.message } : { status: "error", body: String(e) });
    }
  };
  return (
    <details class="panel op" data-testid="operation">
      <summary>
        <code>{o.method.toUpperCase()}</code> <code>{o.path}</code> <span class="muted">{(o.op.summary as string) ?? ""}</span>
      </summary>
      {o.op.description ? <p>{o.op.description as string}</p> : null}
      {params.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">{t("docs.parameter")}</th>
              <th scope="col">{t("docs.in")}</th>
              <th scope="col">{t("docs.type")}</th>
              <th scope="col">{t("docs.value")}</th>
            </tr>
          </thead>
          <tbody>
            {params.map((p) => (
              <tr key={p.name as string}>
                <td>
                  {p.name as string}
                  {p.required ? " *" : ""}
                  {p.description ? <div class="muted">{p.description as string}</div> : null}
                </td>
                <td>{p.in as string}</td>
                <td>
                  <code>{typeText(spec, p.schema)}</code>
                </td>
                <td>
                  <input aria-label={p.name as string} value={values[p.name as string] ?? ""} onInput={(e) => setValues({ ...values, [p.name as string]: (e.target as HTMLInputElement).value })} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {body && (
        <>
          <p>
            {tx("docs.body", { type: <code>{typeText(spec, body.schema)}</code> })}
          </p>
          <textarea rows={4} cols={60} aria-label={t("docs.body_label")} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
        </>
      )}
      <h4>{t("docs.responses")}</h4>
      <ul>
        {Object.entries((o.op.responses as Json) ?? {}).map(([status, r]) => {
          const schema = (((r as Json).content as Json)?.["application/json"] as Json | undefined)?.schema;
          return (
            <li key={status}>
              <strong>{status}</strong> {(r as Json).description as string} {schema ? <code>{typeText(spec, schema)}</code> : null}
            </li>
          );
        })}
      </ul>
      <button type="button" onClick={send}>
        {t("docs.send")}
      </button>
      {answer && (
        <div>
          <p>
            {tx("docs.answer", { status: <strong>{answer.status}</strong> })}
          </p>
          <pre>{answer.body}</pre>
        </div>
      )}
    </details>
  );
}

renderLocalised(() => <App />, document.getElementById("app")!);
