#!/usr/bin/env python3
"""No module imports another in a circle: for every crate of the workspace, the modules of `src/` and the
modules each one names (`use crate::a::b`, `use super::{x, y}`, `crate::a::f()` in code) form a graph, and this
fails on any cycle in it.

A module naming its own ancestor or descendant is not counted (a parent declares its children, and a child may use
what its parent defines): the rule is about siblings and cousins, such as two modules that each import the other.
Comments and `#[cfg(test)]` modules are left out.

    scripts/module-cycles.py [root]     # checks every crate under root (default: the repository)
    scripts/module-cycles.py --self-test
"""

import os
import re
import sys
import tempfile

SKIP = ("node_modules", "target", ".git", ".devnet")
CASES = 6


def crates(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP and not d.startswith(".")]
        if "Cargo.toml" in filenames and os.path.isdir(os.path.join(dirpath, "src")):
            yield dirpath


def module_of(src, path):
    parts = os.path.relpath(path, src)[:-3].split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    if parts and parts[0] == "bin":
        return None  # each binary is a crate of its own
    return tuple(parts)


def code_of(text):
    text = re.sub(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{.*", "", text, flags=re.S)  # inline test modules end a file
    text = re.sub(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*;", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def expand(tree):
    """`a::{b, c::{d}}` -> [a::b, a::c::d]."""
    tree = tree.replace(" ", "").replace("\n", "")
    depth, split = 0, None
    for i, ch in enumerate(tree):
        if ch == "{" and depth == 0:
            split = i
            break
    if split is None:
        return [tree]
    prefix, inner = tree[:split], tree[split + 1 : tree.rindex("}")]
    items, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            items.append(inner[start:i])
            start = i + 1
    items.append(inner[start:])
    return [p for item in items if item for p in expand(prefix + item)]


def referenced(module, code):
    """Module paths (tuples) named by `code`, resolved from `module`; `None` parts are items."""
    paths = []
    for tree in re.findall(r"\buse\s+([^;]+);", code):
        paths.extend(expand(tree))
    paths.extend(re.findall(r"\b(?:crate|super)(?:::[A-Za-z_][A-Za-z0-9_]*)+", code))
    out = []
    for path in paths:
        parts = [p for p in re.split(r"::", path.split(" as ")[0]) if p]
        if not parts:
            continue
        if parts[0] == "crate":
            base, rest = (), parts[1:]
        elif parts[0] == "super":
            base = module
            while parts and parts[0] == "super":
                base, parts = base[:-1], parts[1:]
            rest = parts
        else:
            continue
        out.append(base + tuple(p for p in rest if p not in ("self", "*")))
    return out


def cycles(root):
    found = []
    for crate in sorted(crates(root)):
        src = os.path.join(crate, "src")
        modules = {}
        for dirpath, _, filenames in os.walk(src):
            for name in filenames:
                if name.endswith(".rs"):
                    path = os.path.join(dirpath, name)
                    module = module_of(src, path)
                    if module is not None:
                        with open(path, encoding="utf-8") as f:
                            modules[module] = code_of(f.read())
        edges = {m: set() for m in modules}
        for module, code in modules.items():
            for path in referenced(module, code):
                target = next((path[:k] for k in range(len(path), -1, -1) if path[:k] in modules), None)
                if target is None or target == module:
                    continue
                related = target[: len(module)] == module or module[: len(target)] == target
                if not related:
                    edges[module].add(target)
        for component in strongly_connected(edges):
            if len(component) > 1:
                found.append((os.path.relpath(crate, root), sorted("::".join(m) or "crate" for m in component)))
    return found, sum(1 for _ in crates(root))


def strongly_connected(edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            out.append(component)

    sys.setrecursionlimit(100_000)
    for v in edges:
        if v not in index:
            visit(v)
    return out


def self_test():
    def crate(files):
        root = tempfile.mkdtemp()
        os.makedirs(os.path.join(root, "c", "src", "a"))
        with open(os.path.join(root, "c", "Cargo.toml"), "w") as f:
            f.write("[package]\n")
        for name, text in files.items():
            with open(os.path.join(root, "c", "src", name), "w") as f:
                f.write(text)
        return root

    base = {"lib.rs": "pub mod a;\npub mod b;\npub mod c;\n", "a/mod.rs": "pub mod x;\nuse crate::b::B;\n",
            "a/x.rs": "use super::super::c::C;\n", "b.rs": "pub struct B;\n", "c.rs": "pub struct C;\n"}
    cases = [
        ("no cycle", {}, 0),
        ("a circle through a grouped use", {"b.rs": "use crate::{a::x::X, c};\n", "c.rs": "use crate::b::B;\n"}, 1),
        ("a circle through a path in code", {"c.rs": "fn f() { crate::a::x::g(); }\n"}, 1),
        ("a child using its parent is no circle", {"a/x.rs": "use super::Y;\n"}, 0),
        ("a comment names no module", {"b.rs": "// crate::a::x\npub struct B;\n"}, 0),
        ("a test module is left out", {"c.rs": "#[cfg(test)]\nmod tests {\n use crate::a::x;\n}\n"}, 0),
    ]
    assert len(cases) == CASES
    failed = 0
    for name, change, want in cases:
        found, _ = cycles(crate({**base, **change}))
        ok = len(found) == want
        failed += not ok
        print(f"module-cycles self-test {'ok' if ok else 'FAILED'}: {name} ({len(found)} cycles, want {want})")
    return failed


def main():
    if sys.argv[1:] == ["--self-test"]:
        sys.exit(1 if self_test() else 0)
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    failed = self_test()
    found, count = cycles(root)
    for crate, component in found:
        print(f"cycle in {crate}: {' <-> '.join(component)}")
    print(f"{count} crates, {len(found)} cycles")
    # One check per self-test case and one for the workspace.
    passed = CASES - failed + (0 if found else 1)
    print(f"module-cycles: {passed} passed, {failed + (1 if found else 0)} failed")
    sys.exit(1 if found or failed else 0)


if __name__ == "__main__":
    main()
