#!/usr/bin/env python3
"""Consistency checks of the on-call artifacts under ops/ (Python 3 standard library only).

    python3 ops/check.py [-v] [OPS_DIR]      (OPS_DIR: the directory of this file by default, or $OPS_DIR)

Checks that
  * every metric an alert rule or a dashboard query reads is in ops/metrics.md (a histogram's _bucket, _sum
    and _count included), and that label matchers use only the labels listed there (plus job and instance);
  * every alert has severity page or ticket, summary and description annotations, and
    runbook_url = "{{ $externalLabels.runbook_base }}/<alertname>.md"; every alert has ops/runbooks/<alertname>.md
    with the sections on-call needs, and every runbook belongs to an alert; ops/README.md links each runbook;
  * every alert has a promtool test case where it fires and one where it does not;
  * the dashboard JSON loads, is a Grafana dashboard (schemaVersion >= 36, Prometheus data source by uid
    variable), and every panel has a query;
  * prometheus.yml sets the runbook_base external label and loads rules/*.yml; the Grafana provisioning
    files exist.
Prints each failed check (each passed one too with -v) and, last, "checks: N passed, M failed"; exits 1 on any
failure.

YAML: the standard library has no YAML parser, so this file carries a small one for the block-style subset
the rule and test files use (mappings, sequences, plain and quoted scalars, | and > block scalars, flow
sequences/mappings of scalars). It raises on anything it does not understand, so a file it cannot read
fails the check rather than passing it unread.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

# ---------------------------------------------------------------------------------------------------------
# A small YAML subset parser.


class YamlError(Exception):
    pass


def _strip_comment(line: str) -> str:
    """Removes a trailing # comment that is outside quotes."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            # A quote opens a quoted scalar only at the start of a value.
            before = line[:i].rstrip()
            if before == "" or before.endswith((":", "-", "[", "{", ",")):
                quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


def _scalar(text: str):
    text = text.strip()
    if text == "":
        return None
    if text[0] == '"':
        if not text.endswith('"') or len(text) < 2:
            raise YamlError(f"unterminated double-quoted scalar: {text}")
        return json.loads(text) if "\\" in text else text[1:-1]
    if text[0] == "'":
        if not text.endswith("'") or len(text) < 2:
            raise YamlError(f"unterminated single-quoted scalar: {text}")
        return text[1:-1].replace("''", "'")
    if text[0] == "[":
        return _flow(text)
    if text[0] == "{":
        return _flow(text)
    if text in ("null", "~"):
        return None
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d*([eE][-+]?\d+)?", text):
        return float(text)
    return text


def _split_flow(inner: str) -> list[str]:
    parts, depth, quote, cur = [], 0, None, ""
    for ch in inner:
        if quote:
            cur += ch
            if ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        cur += ch
    if cur.strip():
        parts.append(cur)
    return [p.strip() for p in parts]


def _flow(text: str):
    if text[0] == "[":
        if not text.endswith("]"):
            raise YamlError(f"unterminated flow sequence: {text}")
        return [_scalar(p) for p in _split_flow(text[1:-1])]
    if not text.endswith("}"):
        raise YamlError(f"unterminated flow mapping: {text}")
    out = {}
    for part in _split_flow(text[1:-1]):
        key, sep, value = part.partition(":")
        if not sep:
            raise YamlError(f"flow mapping entry without a colon: {part}")
        out[_scalar(key)] = _scalar(value)
    return out


_KEY = re.compile(r"""^("[^"]*"|'[^']*'|[^\s"'#][^:#]*?)\s*:(\s+(.*))?$""")


def parse_yaml(text: str):
    """Parses the block-style YAML subset described in the module docstring."""
    raw = text.split("\n")
    lines = []  # (indent, content, raw line index)
    for n, line in enumerate(raw):
        if "\t" in line[: len(line) - len(line.lstrip())]:
            raise YamlError(f"line {n + 1}: tab in indentation")
        stripped = _strip_comment(line)
        if stripped.strip() in ("", "---"):
            lines.append(None)
            continue
        lines.append((len(stripped) - len(stripped.lstrip(" ")), stripped.strip(), n))
    pos = 0

    def skip_blank():
        nonlocal pos
        while pos < len(lines) and lines[pos] is None:
            pos += 1

    def block_scalar(indicator: str, parent_indent: int) -> str:
        # Raw lines (comments are content here) indented deeper than the parent.
        nonlocal pos
        body = []
        indent = None
        while pos < len(lines):
            n = lines[pos][2] if lines[pos] is not None else None
            if n is None:
                # A blank (or comment-only) line: keep it if the scalar goes on after it.
                body.append(None)
                pos += 1
                continue
            line = raw[n]
            ind = len(line) - len(line.lstrip(" "))
            if ind <= parent_indent:
                break
            if indent is None:
                indent = ind
            body.append(line[indent:].rstrip() if ind >= indent else line.strip())
            pos += 1
        while body and body[-1] is None:
            body.pop()
        body = ["" if b is None else b for b in body]
        if indicator.startswith("|"):
            value = "\n".join(body)
        else:
            value = ""
            for i, b in enumerate(body):
                if i == 0:
                    value = b
                elif b == "":
                    value += "\n"
                elif body[i - 1] == "":
                    value += b
                else:
                    value += " " + b
        if not indicator.endswith("-"):
            value += "\n"
        return value

    def value_after_key(rest: str | None, indent: int):
        nonlocal pos
        if rest is None or rest == "":
            skip_blank()
            if pos < len(lines) and lines[pos][0] > indent:
                return node(lines[pos][0])
            if pos < len(lines) and lines[pos][0] == indent and lines[pos][1].startswith("- "):
                return node(indent)  # a sequence at the key's own indentation
            if pos < len(lines) and lines[pos][0] == indent and lines[pos][1] == "-":
                return node(indent)
            return None
        if rest in ("|", "|-", ">", ">-", "|+", ">+"):
            return block_scalar(rest.replace("+", ""), indent)
        if rest[0] in "\"'" and not (len(rest) > 1 and rest.endswith(rest[0])):
            raise YamlError(f"multi-line quoted scalars are not supported: {rest}")
        return _scalar(rest)

    def mapping(indent: int, first: tuple | None = None) -> dict:
        nonlocal pos
        out = {}
        while True:
            if first is not None:
                content, n = first
                first = None
            else:
                skip_blank()
                if pos >= len(lines) or lines[pos][0] < indent:
                    return out
                if lines[pos][0] > indent:
                    raise YamlError(f"line {lines[pos][2] + 1}: unexpected indentation")
                content, n = lines[pos][1], lines[pos][2]
                if content.startswith("- ") or content == "-":
                    return out
                pos += 1
            m = _KEY.match(content)
            if not m:
                raise YamlError(f"line {n + 1}: expected 'key: value', got {content!r}")
            key = _scalar(m.group(1))
            if key in out:
                raise YamlError(f"line {n + 1}: duplicate key {key!r}")
            out[key] = value_after_key(m.group(3), indent)

    def sequence(indent: int) -> list:
        nonlocal pos
        out = []
        while True:
            skip_blank()
            if pos >= len(lines) or lines[pos][0] != indent:
                return out
            content, n = lines[pos][1], lines[pos][2]
            if not (content.startswith("- ") or content == "-"):
                return out
            pos += 1
            rest = content[1:].strip()
            if rest == "":
                skip_blank()
                out.append(node(lines[pos][0]) if pos < len(lines) and lines[pos][0] > indent else None)
                continue
            item_indent = indent + (len(content) - len(rest))
            if _KEY.match(rest) and not rest.startswith(("[", "{", '"', "'")):
                out.append(mapping(item_indent, first=(rest, n)))
            elif rest.startswith("- "):
                raise YamlError(f"line {n + 1}: nested inline sequences are not supported")
            else:
                out.append(_scalar(rest))

    def node(indent: int):
        nonlocal pos
        skip_blank()
        if pos >= len(lines):
            return None
        content = lines[pos][1]
        if content.startswith("- ") or content == "-":
            return sequence(indent)
        if _KEY.match(content) and not content.startswith(("[", "{")):
            return mapping(indent)
        value = _scalar(content)
        pos += 1
        return value

    skip_blank()
    if pos >= len(lines):
        return None
    result = node(lines[pos][0])
    skip_blank()
    if pos < len(lines):
        raise YamlError(f"line {lines[pos][2] + 1}: unexpected content {lines[pos][1]!r}")
    return result


# ---------------------------------------------------------------------------------------------------------
# The catalogue and PromQL.


def read_catalogue(path: Path) -> dict[str, dict]:
    """metric name → {type, labels, job}, from the markdown tables of metrics.md."""
    metrics = {}
    for line in path.read_text().splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5:
            raise ValueError(f"metrics.md: a row with fewer than 5 cells: {line}")
        name = cells[0].strip("`")
        if not re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", name):
            raise ValueError(f"metrics.md: not a metric name: {cells[0]}")
        if name in metrics:
            raise ValueError(f"metrics.md: {name} is listed twice")
        kind = cells[1]
        if kind not in ("counter", "gauge", "histogram"):
            raise ValueError(f"metrics.md: {name} has type {kind!r}")
        labels = set(re.findall(r"`([a-zA-Z_][a-zA-Z0-9_]*)`", cells[2]))
        metrics[name] = {"type": kind, "labels": labels, "job": cells[3]}
    return metrics


PROMQL_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
    "offset", "inf", "nan", "atan2",
}
AGGREGATIONS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
    "quantile",
}
ALWAYS_LABELS = {"job", "instance"}


def resolve_metric(name: str, catalogue: dict) -> tuple[str | None, set[str]]:
    """The catalogue entry a series name belongs to (histogram suffixes included) and its extra labels."""
    if name in catalogue:
        return name, set()
    for suffix, extra in (("_bucket", {"le"}), ("_sum", set()), ("_count", set())):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            if catalogue.get(base, {}).get("type") == "histogram":
                return base, extra
    return None, set()


def promql_selectors(expr: str) -> list[tuple[str, list[str]]]:
    """(metric name, [label names in its matchers]) for every vector selector of `expr`."""
    # Grafana variables: $__rate_interval, ${datasource}, $asset.
    expr = re.sub(r"\$\{[^}]*\}|\$\w+", "VAR", expr)
    # Strings first (they may hold anything), remembering matcher blocks' label names.
    out = []
    tokens = re.finditer(
        r"""(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)"""
        r"""|(?P<group>\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\))"""
        r"""|(?P<range>\[[^\]]*\])"""
        r"""|(?P<matchers>\{(?:[^{}"']|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')*\})"""
        r"""|(?P<num>(?<![\w.])(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+)(?:ms|s|m|h|d|w|y)?(?![\w]))"""
        r"""|(?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)"""
        r"""|(?P<other>\S)""",
        expr,
    )
    items = [(m.lastgroup, m.group(), m.end()) for m in tokens]
    for i, (kind, text, end) in enumerate(items):
        if kind == "matchers":
            # A selector without a name ({__name__=…}) or one that follows an identifier (handled below).
            prev = items[i - 1] if i > 0 else None
            if not prev or prev[0] != "ident":
                names = re.findall(r'__name__\s*=\s*"([^"]+)"', text)
                for name in names:
                    out.append((name, matcher_labels(text)))
            continue
        if kind != "ident":
            continue
        if text in PROMQL_KEYWORDS or text == "VAR":
            continue
        nxt = items[i + 1] if i + 1 < len(items) else None
        nxt_text = nxt[1] if nxt else ""
        if nxt_text == "(":
            continue  # a function call
        if text in AGGREGATIONS and nxt and nxt[0] == "group":
            continue  # sum by (…) (…)
        labels = matcher_labels(nxt_text) if nxt and nxt[0] == "matchers" else []
        out.append((text, labels))
    return out


def matcher_labels(block: str) -> list[str]:
    block = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', block)
    return [n for n in re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", block) if n != "__name__"]


# ---------------------------------------------------------------------------------------------------------
# The checks.


class Checks:
    """Counts each distinct check once (a metric read twice by one rule is one check); prints failures, and
    passes too with -v."""

    def __init__(self, verbose: bool = False):
        self.passed = 0
        self.failed = 0
        self.seen: set[str] = set()
        self.verbose = verbose

    def check(self, ok: bool, what: str, why: str = ""):
        if what in self.seen:
            return ok
        self.seen.add(what)
        if ok:
            self.passed += 1
            if self.verbose:
                print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}{': ' + why if why else ''}")
        return ok


RUNBOOK_SECTIONS = ("## What it means", "## Confirm", "## Act", "## Never")
RUNBOOK_URL = "{{ $externalLabels.runbook_base }}/%s.md"


def check_expr(c: Checks, catalogue: dict, expr: str, where: str, recorded: set[str]):
    selectors = promql_selectors(expr)
    c.check(bool(selectors), f"{where}: reads at least one metric", f"no metric found in {expr!r}")
    for name, labels in selectors:
        if name in recorded:
            continue
        base, extra = resolve_metric(name, catalogue)
        if not c.check(base is not None, f"{where}: {name} is in metrics.md", "not in the catalogue"):
            continue
        allowed = catalogue[base]["labels"] | ALWAYS_LABELS | extra
        unknown = sorted(set(labels) - allowed)
        c.check(not unknown, f"{where}: {name} matchers use catalogued labels",
                f"unknown label(s) {unknown}; metrics.md lists {sorted(catalogue[base]['labels'])}")


def main(ops: Path, verbose: bool = False) -> int:
    c = Checks(verbose)
    try:
        catalogue = read_catalogue(ops / "metrics.md")
    except (OSError, ValueError) as e:
        c.check(False, "metrics.md parses", str(e))
        return summary(c)
    c.check(len(catalogue) > 0, f"metrics.md lists {len(catalogue)} metrics")

    # Rules.
    rule_files = sorted((ops / "prometheus" / "rules").glob("*.yml"))
    c.check(bool(rule_files), "there are rule files in prometheus/rules/")
    alerts: dict[str, list[dict]] = {}
    recorded: set[str] = set()
    parsed_rules = []
    for path in rule_files:
        try:
            doc = parse_yaml(path.read_text())
            groups = doc["groups"]
            parsed_rules.append((path, groups))
        except (YamlError, KeyError, TypeError) as e:
            c.check(False, f"{path.name} parses", str(e))
            continue
        for group in groups:
            for rule in group.get("rules") or []:
                if "record" in rule:
                    recorded.add(rule["record"])
    for path, groups in parsed_rules:
        for group in groups:
            for rule in group.get("rules") or []:
                name = rule.get("alert") or rule.get("record")
                where = f"{path.name}: {name}"
                check_expr(c, catalogue, str(rule.get("expr", "")), where, recorded)
                if "alert" not in rule:
                    continue
                alerts.setdefault(name, []).append(rule)
                labels = rule.get("labels") or {}
                annotations = rule.get("annotations") or {}
                c.check(labels.get("severity") in ("page", "ticket"), f"{where}: severity is page or ticket",
                        f"severity = {labels.get('severity')!r}")
                for key in ("summary", "description"):
                    c.check(bool(annotations.get(key)), f"{where}: has a {key} annotation")
                c.check(annotations.get("runbook_url") == RUNBOOK_URL % name, f"{where}: runbook_url",
                        f"expected {RUNBOOK_URL % name!r}, got {annotations.get('runbook_url')!r}")

    # Runbooks.
    runbooks = ops / "runbooks"
    readme = (ops / "README.md").read_text() if (ops / "README.md").exists() else ""
    c.check(bool(readme), "ops/README.md exists")
    for name in sorted(alerts):
        path = runbooks / f"{name}.md"
        if not c.check(path.is_file(), f"runbook for {name}", f"missing {path}"):
            continue
        text = path.read_text()
        missing = [s for s in RUNBOOK_SECTIONS if s not in text]
        c.check(not missing, f"runbooks/{name}.md has the on-call sections", f"missing {missing}")
        c.check(text.startswith(f"# {name}"), f"runbooks/{name}.md is titled with the alert name")
        c.check(f"runbooks/{name}.md" in readme, f"ops/README.md links runbooks/{name}.md")
    for path in sorted(runbooks.glob("*.md")):
        if path.name == "README.md":
            continue
        c.check(path.stem in alerts, f"runbooks/{path.name} belongs to an alert", "no alert of that name")

    # promtool tests: a firing and a quiet case per alert.
    fires: dict[str, int] = {}
    quiet: dict[str, int] = {}
    test_files = sorted((ops / "prometheus" / "tests").glob("*.yml"))
    c.check(bool(test_files), "there are promtool tests in prometheus/tests/")
    for path in test_files:
        try:
            doc = parse_yaml(path.read_text())
            for test in doc["tests"]:
                c.check(
                    (test.get("external_labels") or {}).get("runbook_base") is not None,
                    f"{path.name}: {test.get('name', '?')}: sets the runbook_base external label",
                )
                for case in test.get("alert_rule_test") or []:
                    target = fires if case.get("exp_alerts") else quiet
                    target[case["alertname"]] = target.get(case["alertname"], 0) + 1
                    for exp in case.get("exp_alerts") or []:
                        url = (exp.get("exp_annotations") or {}).get("runbook_url", "")
                        c.check(str(url).endswith(f"/{case['alertname']}.md"),
                                f"{path.name}: {case['alertname']} expects its runbook_url", f"got {url!r}")
        except (YamlError, KeyError, TypeError) as e:
            c.check(False, f"{path.name} parses", str(e))
    for name in sorted(alerts):
        c.check(fires.get(name, 0) > 0, f"{name} has a test case where it fires")
        c.check(quiet.get(name, 0) > 0, f"{name} has a test case where it does not fire")
    for name in sorted(set(fires) | set(quiet)):
        c.check(name in alerts, f"tested alert {name} exists")

    # Dashboards.
    dashboards = sorted((ops / "grafana" / "dashboards").glob("*.json"))
    c.check(bool(dashboards), "there are dashboards in grafana/dashboards/")
    for path in dashboards:
        try:
            dash = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            c.check(False, f"{path.name} loads as JSON", str(e))
            continue
        c.check(True, f"{path.name} loads as JSON")
        check_dashboard(c, catalogue, path.name, dash)

    # Prometheus config and Grafana provisioning.
    try:
        prom = parse_yaml((ops / "prometheus" / "prometheus.yml").read_text())
        c.check(prom["global"]["external_labels"].get("runbook_base") == "__RUNBOOK_BASE__",
                "prometheus.yml: external label runbook_base is the __RUNBOOK_BASE__ placeholder")
        c.check("rules/*.yml" in (prom.get("rule_files") or []), "prometheus.yml loads rules/*.yml")
        jobs = {s["job_name"] for s in prom.get("scrape_configs") or []}
        c.check(jobs == {"api", "signer", "listener", "reconciler", "notifier"},
                "prometheus.yml scrapes the five services", f"jobs: {sorted(jobs)}")
    except (OSError, YamlError, KeyError, TypeError) as e:
        c.check(False, "prometheus.yml parses", str(e))
    for sub in ("datasources", "dashboards"):
        files = sorted((ops / "grafana" / "provisioning" / sub).glob("*.yml"))
        if not c.check(bool(files), f"grafana/provisioning/{sub}/ has a file"):
            continue
        for path in files:
            try:
                doc = parse_yaml(path.read_text())
                key = "datasources" if sub == "datasources" else "providers"
                c.check(doc.get("apiVersion") == 1 and bool(doc.get(key)), f"provisioning/{sub}/{path.name} is valid")
            except (YamlError, AttributeError) as e:
                c.check(False, f"provisioning/{sub}/{path.name} parses", str(e))
    return summary(c)


def check_dashboard(c: Checks, catalogue: dict, name: str, dash: dict):
    c.check(int(dash.get("schemaVersion", 0)) >= 36, f"{name}: schemaVersion >= 36",
            f"schemaVersion = {dash.get('schemaVersion')}")
    c.check(bool(dash.get("uid")) and bool(dash.get("title")), f"{name}: has a uid and a title")
    variables = {v.get("name"): v for v in (dash.get("templating") or {}).get("list", [])}
    ds = variables.get("datasource") or {}
    c.check(ds.get("type") == "datasource" and ds.get("query") == "prometheus",
            f"{name}: has a Prometheus data source variable 'datasource'")
    for var in variables.values():
        if var.get("type") == "query":
            check_expr(c, catalogue, re.sub(r"^label_values\((.*),\s*\w+\)$", r"\1",
                                            str((var.get("query") or {}).get("query", var.get("query")))),
                       f"{name}: variable {var.get('name')}", set())
    panels = []
    for panel in dash.get("panels") or []:
        panels.append(panel)
        panels.extend(panel.get("panels") or [])  # collapsed rows
    ids = [p.get("id") for p in panels]
    c.check(len(ids) == len(set(ids)) and None not in ids, f"{name}: panel ids are unique")
    queried = 0
    for panel in panels:
        title = panel.get("title", "?")
        if panel.get("type") == "row":
            continue
        queried += 1
        where = f"{name}: panel {title!r}"
        c.check("gridPos" in panel, f"{where}: has a position")
        uid = (panel.get("datasource") or {}).get("uid")
        c.check(uid == "${datasource}", f"{where}: uses the datasource variable", f"uid = {uid!r}")
        targets = [t for t in panel.get("targets") or [] if str(t.get("expr", "")).strip()]
        if not c.check(bool(targets), f"{where}: has a query"):
            continue
        for target in targets:
            check_expr(c, catalogue, target["expr"], f"{where} [{target.get('refId', '?')}]", set())
    c.check(queried > 0, f"{name}: has panels")


def summary(c: Checks) -> int:
    print(f"checks: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "-v"]
    default = Path(os.environ.get("OPS_DIR") or Path(__file__).resolve().parent)
    sys.exit(main(Path(args[0]) if args else default, verbose="-v" in sys.argv[1:]))
