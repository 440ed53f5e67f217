"""Rules of an assignment checked on the student's code (its syntax tree), in the grader, never at run time.

A source notebook declares them in its metadata, e.g.::

    "lstm_course": {"rules": [{
        "name": "numpy only",
        "tests": ["test_lstm_cell_reference", ...],          # the tests a broken rule costs
        "forbidden_modules": ["keras", "torch", "lstm_course.cells"],
        "forbidden_names": ["keras", "torch"],              # names the student's code may not use
        "forbidden_attributes": ["cells", "layouts"],       # e.g. lc.cells, lstm_course.layouts
        "message": "write the cell with NumPy yourself"}]}

The student's code is every code cell that is not a locked or test cell of the template (answer cells and
cells the student added). A broken rule sets its tests to 0 with a message the student sees; code that hides
what it uses (``__import__``, ``importlib``, ``eval``/``exec``, ``getattr`` with a computed name, ``sys.modules``,
``globals()``, ``__dict__`` ...) cannot be checked and gets the outcome ``needs_review``: its rules' tests score
0 until an instructor looks.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

#: Calls and attributes that build a name at run time: the code cannot be checked by reading it.
DYNAMIC_CALLS = {"__import__", "eval", "exec", "compile", "globals", "locals", "vars", "getattr", "setattr",
                 "delattr", "__build_class__", "breakpoint"}
DYNAMIC_ATTRIBUTES = {"__dict__", "__globals__", "__builtins__", "__subclasses__", "__getattribute__", "modules",
                      "__code__", "__closure__", "f_globals", "f_locals", "__import__", "import_module"}
DYNAMIC_MODULES = {"importlib", "builtins", "ctypes", "inspect", "gc", "pickle", "marshal", "types", "runpy",
                   "code", "codeop", "imp", "pkgutil", "dill", "cloudpickle", "zipimport"}


@dataclass
class RuleReport:
    """What the rules found in one notebook."""

    failed: dict[str, str] = field(default_factory=dict)  # test grade_id -> message for the student
    review: list[str] = field(default_factory=list)  # reasons an instructor must look


def _module_matches(module: str, forbidden: list[str]) -> str | None:
    for f in forbidden:
        if module == f or module.startswith(f + "."):
            return f
    return None


def check_source(source: str, rule: dict) -> tuple[list[str], list[str]]:
    """(violations, reasons to review) of one cell's code under one rule."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [], []
    forbidden_modules = list(rule.get("forbidden_modules", []))
    forbidden_names = set(rule.get("forbidden_names", []))
    forbidden_attrs = set(rule.get("forbidden_attributes", []))
    bad, review = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in DYNAMIC_MODULES:
                    review.append(f"imports {alias.name}")
                hit = _module_matches(alias.name, forbidden_modules)
                if hit:
                    bad.append(f"imports {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = ("." * node.level) + (node.module or "")
            if module.split(".")[0] in DYNAMIC_MODULES:
                review.append(f"imports from {module}")
            if _module_matches(module, forbidden_modules):
                bad.append(f"imports from {module}")
            for alias in node.names:
                full = f"{module}.{alias.name}"
                if _module_matches(full, forbidden_modules) or alias.name in forbidden_attrs:
                    bad.append(f"imports {alias.name} from {module}")
        elif isinstance(node, ast.Name):
            if node.id in forbidden_names:
                bad.append(f"uses {node.id}")
            if node.id in DYNAMIC_CALLS and not _is_plain_getattr(node, tree):
                review.append(f"uses {node.id}")
        elif isinstance(node, ast.Attribute):
            if node.attr in forbidden_attrs:
                bad.append(f"uses .{node.attr}")
            if node.attr in DYNAMIC_ATTRIBUTES:
                review.append(f"uses .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.strip()
            if text in forbidden_attrs or _module_matches(text, forbidden_modules):
                bad.append(f"names {text!r} in a string")
    return sorted(set(bad)), sorted(set(review))


def _is_plain_getattr(name: ast.Name, tree: ast.AST) -> bool:
    """getattr/hasattr-style calls with a constant attribute name that is not dunder are readable."""
    if name.id != "getattr":
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.func is name:
            return len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and \
                isinstance(node.args[1].value, str) and not node.args[1].value.startswith("__")
    return False


def check_notebook(rules: list[dict], student_cells: list[tuple[str, str]]) -> RuleReport:
    """Apply every rule to the student's code: `student_cells` holds (label, source) of each student cell."""
    report = RuleReport()
    for rule in rules:
        bad, review = [], []
        for label, source in student_cells:
            b, r = check_source(source, rule)
            bad += [f"{label} {x}" for x in b]
            review += [f"{label} {x}" for x in r]
        if bad:
            message = f"rule '{rule.get('name', 'rule')}' broken: your code " + "; ".join(dict.fromkeys(bad))[:400]
            if rule.get("message"):
                message += f" ({rule['message']})"
            for gid in rule.get("tests", []):
                report.failed.setdefault(gid, message)
        if review:
            reason = f"rule '{rule.get('name', 'rule')}' cannot be checked: " + "; ".join(dict.fromkeys(review))[:400]
            report.review.append(reason)
            for gid in rule.get("tests", []):
                report.failed.setdefault(gid, reason + " (an instructor will look at your code)")
    return report
