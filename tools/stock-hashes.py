#!/usr/bin/env python3
"""Recompute a patch set's list of stock upstream files (stock-files.toml).

The audit recognises the upstream logos, icons, favicon, mail layout, audio
and the inlined bubble logo by sha256, anywhere in a tree, with no reference
image. This script takes those hashes from an upstream tree: every file that
a whole-file rule of the patch set replaces (action asset or icon), every
sound the id3 rule rewrites whose bytes name the product (a sound without
the word is left as is by the rule, so it is not stock), and the sources
that Vite inlines and a rule recognises (INLINED below).

The upstream tree is a checkout of the upstream commit, or the /app of the
image. For v3.15.0, from the apphiveio/chatwoot3 mirror (same SHAs as
upstream; see ../shared/chatwoot-v3.15.0/SOURCE.md):

    git -C chatwoot3 archive 7d9800d2f89bef6695e8179382d44eb0e51b3ca5 public app | tar -x -C /tmp/up
    python3 tools/stock-hashes.py patches/chatwoot-v3.15.0 /tmp/up          # rewrite the list
    python3 tools/stock-hashes.py patches/chatwoot-v3.15.0 /tmp/up --check  # compare, write nothing

Python 3.11+ standard library only.
"""

import hashlib
import re
import sys
import tomllib
from pathlib import Path

OUT = "stock-files.toml"
# rule id -> upstream source files it recognises once Vite inlined them.
INLINED = {"inline-logo-data-uris": ["app/javascript/dashboard/assets/images/bubble-logo.svg"]}


def glob_re(glob: str) -> re.Pattern:
    """globset's default syntax: `*` and `**` cross `/`."""
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif glob.startswith("**", i):
            out, i = out + ".*", i + 2
        elif glob[i] == "*":
            out, i = out + ".*", i + 1
        elif glob[i] == "?":
            out, i = out + ".", i + 1
        else:
            out, i = out + re.escape(glob[i]), i + 1
    return re.compile(out + r"\Z")


def rules(patchset: Path):
    word = None
    for f in sorted(patchset.glob("*.toml")):
        if f.name == OUT:
            continue
        doc = tomllib.loads(f.read_text())
        word = doc.get("patchset", {}).get("word", word)
        yield from doc.get("rule", [])
    rules.word = word


def entries(patchset: Path, upstream: Path):
    all_rules = list(rules(patchset))
    word = rules.word.encode()
    files = sorted(p.relative_to(upstream).as_posix() for p in upstream.rglob("*") if p.is_file())
    out = []
    for rule in all_rules:
        action = rule["action"]
        if action not in ("asset", "icon", "id3") and rule["id"] not in INLINED:
            continue
        include = [glob_re(g) for g in rule["files"]]
        exclude = [glob_re(g) for g in rule.get("exclude", [])]
        paths = [p for p in files if any(r.match(p) for r in include) and not any(r.match(p) for r in exclude)]
        paths += INLINED.get(rule["id"], [])
        for p in paths:
            data = (upstream / p).read_bytes()
            if action == "id3" and word not in data:
                print(f"skipped {p}: its tag does not name {word.decode()}, the rule leaves it", file=sys.stderr)
                continue
            out.append((p, hashlib.sha256(data).hexdigest(), len(data), rule["id"]))
    return sorted(set(out))


def render(items) -> str:
    lines = [
        "# The upstream files the rules replace or recognise, by sha256: the audit",
        "# finds them at any path without a reference image. Generated from the",
        "# upstream tree by tools/stock-hashes.py; do not edit by hand.",
    ]
    for path, sha, size, rule in items:
        lines += ["", "[[stock]]", f'path = "{path}"', f'sha256 = "{sha}"', f"size = {size}", f'rule = "{rule}"']
    return "\n".join(lines) + "\n"


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    patchset, upstream = Path(args[0]), Path(args[1])
    text = render(entries(patchset, upstream))
    dest = patchset / OUT
    if "--check" in sys.argv:
        if not dest.is_file() or dest.read_text() != text:
            print(f"{dest} differs from what {upstream} gives: run without --check", file=sys.stderr)
            return 1
        print(f"{dest} is up to date")
        return 0
    dest.write_text(text)
    print(f"wrote {dest}: {text.count('[[stock]]')} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
