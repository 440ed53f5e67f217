"""Is any figure that the build computes typed by hand in a chapter's prose?

A number in a chapter's Markdown (outside code, maths, roles and links) that has three or more significant
digits and equals, at the precision it is written with, a value the same chapter glues (myst_nb's `glue`) was
typed by hand: when a seed or a library version changes the glued value, the typed copy goes stale. Such a
number must be glued ({glue:text}) instead. Settings are not results and are allowed: round numbers (10,000
words, 500 steps, 25,000 reviews), powers of two (128 features, 256 units) and numbers that the chapter's own
code types as literals. Needs the built book (`make book`): it reads the executed notebooks.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import os

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = Path(os.environ.get("PROSE_BUILD", ROOT / "_build")) / "jupyter_execute" / "chapters"
NUMBER = re.compile(r"(?<![\w.^_/-])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+)(?![\w.]*\d)")
#: what is not prose: fenced code, code cells, inline code, maths, MyST roles and directives' options, links
NOT_PROSE = [re.compile(p, re.S) for p in (
    r"```.*?```", r"~~~.*?~~~", r"\$\$.*?\$\$", r"(?<!\\)\$[^$\n]+\$", r"`[^`\n]*`", r"\{[a-z:]+\}`[^`]*`",
    r"\]\([^)]*\)", r"^:[a-z-]+:.*?$", r"<[^>\n]+>", r"^\(.*?\)=$", r"^---\n.*?\n---\n")]


def significant_digits(text: str) -> int:
    digits = text.replace(",", "").replace(".", "").lstrip("0")
    return len(digits.rstrip("0")) if "." not in text else len(digits)


def glued_numbers(notebook: Path) -> dict[str, list[str]]:
    """name -> the numbers in the text/plain of each glued value of an executed chapter.

    myst-nb writes the glued outputs of <chapter>.ipynb to <chapter>.glue.json beside it; the notebook's own
    outputs (metadata "scrapbook") are read too.
    """
    outputs = []
    glue_file = notebook.with_suffix(".glue.json")
    if glue_file.exists():
        outputs += list(json.loads(glue_file.read_text()).values())
    nb = json.loads(notebook.read_text())
    outputs += [o for cell in nb.get("cells", []) for o in cell.get("outputs", [])]
    out: dict[str, list[str]] = {}
    for output in outputs:
        meta = output.get("metadata", {}).get("scrapbook", {})
        if not meta:
            continue
        text = output.get("data", {}).get("text/plain", "")
        text = "".join(text) if isinstance(text, list) else str(text)
        out[meta.get("name", "?")] = re.findall(r"\d[\d,]*\.?\d*", text)
    return out


def matches(typed: str, glued: str) -> bool:
    """Does the typed number equal the glued one at the typed precision?"""
    try:
        t = float(typed.replace(",", ""))
        g = float(glued.replace(",", ""))
    except ValueError:
        return False
    places = len(typed.split(".")[1]) if "." in typed else 0
    return round(g, places) == t or (places == 0 and t == g)


def prose(source: str) -> str:
    text = source
    for pattern in NOT_PROSE:
        text = pattern.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return text


def chapters() -> list[Path]:
    return sorted((ROOT / "chapters").glob("*.md"))


@pytest.mark.parametrize("chapter", chapters(), ids=lambda p: p.stem)
def test_no_computed_figure_is_typed_by_hand(chapter):
    """Does the chapter's prose type none of the figures its own code computes and glues?"""
    executed = EXECUTED / f"{chapter.stem}.ipynb"
    if "```{code-cell}" not in chapter.read_text(encoding="utf-8"):
        return  # a page without code glues nothing
    if not executed.exists():
        pytest.skip(f"{executed} not built (run `make book`)")
    glued = glued_numbers(executed)
    source = chapter.read_text(encoding="utf-8")
    code = "\n".join(re.findall(r"```\{code-cell\}.*?\n(.*?)```", source, re.S))
    settings = {float(n.replace("_", "")) for n in re.findall(r"(?<![\w.])\d[\d_]*(?:\.\d+)?(?![\w.])", code)}
    values = [(name, g) for name, numbers in glued.items() for g in numbers if significant_digits(g.lstrip("-")) >= 3]
    typed = []
    for lineno, line in enumerate(prose(source).splitlines(), 1):
        for m in NUMBER.finditer(line):
            number = m.group(1)
            value = float(number.replace(",", ""))
            if significant_digits(number) < 3 or re.fullmatch(r"(19|20)\d\d", number) or value in settings or (
                    value.is_integer() and 0 < value <= 65536 and int(value) & (int(value) - 1) == 0):
                continue  # a setting, a year or a power of two, not a result
            hits = [name for name, g in values if matches(number, g)]
            if hits:
                typed.append(f"line {lineno}: {number} (glued as {hits[0]})")
    assert not typed, f"{chapter.name} types figures its code computes; glue them instead:\n" + "\n".join(typed)


def test_the_check_catches_a_typed_figure(tmp_path):
    """Is a glued count typed in prose caught (also rounded), while a setting and a glued role are not?"""
    nb = tmp_path / "ch.ipynb"
    nb.write_text(json.dumps({"cells": [{"outputs": [{"output_type": "display_data", "data": {
        "text/plain": "'328,353'"}, "metadata": {"scrapbook": {"name": "total"}}}, {
        "output_type": "display_data", "data": {"text/plain": "0.87432"}, "metadata": {"scrapbook": {"name": "acc"}}}]}]}))
    glued = [g for numbers in glued_numbers(nb).values() for g in numbers]
    line = prose("The model has 328,353 parameters and {glue:text}`total` again; accuracy 0.874 on 25,000 reviews.")
    found = [m.group(1) for m in NUMBER.finditer(line) if significant_digits(m.group(1)) >= 3
             and any(matches(m.group(1), g) for g in glued)]
    assert found == ["328,353", "0.874"]
