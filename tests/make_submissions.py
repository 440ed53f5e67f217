"""Build graded-exercise submissions from the source notebooks: the reference, the blank release, crafted mistakes.

A "student" submission starts from the released notebook (exercises/<a>/<a>.ipynb, what students get) and has
its solution cells filled with the reference answers of solutions/<a>/<a>.ipynb, matched by grade_id. A crafted
wrong submission then applies small text edits to named solution cells; every edit must match exactly once,
so a change to a solution notebook that breaks an edit fails loudly instead of silently grading the reference.

EXPECTED holds the exact autograded score each submission must get (tests/test_assignments.py asserts them).

Usage: python tests/make_submissions.py OUT_DIR [ASSIGNMENT ...]
writes OUT_DIR/<assignment>/<student>/<assignment>/<assignment>.ipynb, e.g. to grade them by hand:
    python tests/make_submissions.py /tmp/subs imdb_sentiment && python -m autograder imdb_sentiment /tmp/subs/imdb_sentiment
The notebooks are built, never stored: tests/test_assignments.py builds them in a temporary folder.
"""

from __future__ import annotations

import copy
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ("lstm_vs_gru", "imdb_sentiment", "char_generation", "lstm_cell")


@dataclass
class Crafted:
    """One wrong submission: edits {grade_id: [(old, new), ...]} applied to the reference solution cells."""

    student: str
    why: str
    edits: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


CRAFTED: dict[str, list[Crafted]] = {
    "lstm_cell": [
        Crafted("cell_no_tanh", "h_t = o_t * c_t: forgets the tanh of the cell state",
                {"lstm_cell": [("h_t = o_t * np.tanh(c_t)", "h_t = o_t * c_t")]}),
    ],
    "lstm_vs_gru": [
        Crafted("formula_no_bias", "lstm_params forgets the 4h biases",
                {"formulas": [("return 4 * (h * x + h * h + h)", "return 4 * (h * x + h * h)")]}),
        Crafted("gru_for_lstm", "a GRU where the LSTM is asked",
                {"models": [("keras.layers.LSTM(UNITS)", "keras.layers.GRU(UNITS)")]}),
    ],
    "imdb_sentiment": [
        Crafted("hidden_64", "LSTM(64) instead of LSTM(32) in the basic model",
                {"basic": [("keras.layers.LSTM(32)", "keras.layers.LSTM(64)")]}),
        Crafted("stack_return_sequences", "the second stacked LSTM does not return its sequence (the build fails)",
                {"stacked": [("keras.layers.LSTM(32, return_sequences=True),\n        keras.layers.LSTM(32),",
                              "keras.layers.LSTM(32, return_sequences=False),\n        keras.layers.LSTM(32),")]}),
        Crafted("no_bidirectional", "a plain LSTM where Bidirectional(LSTM) is asked",
                {"bidirectional": [("keras.layers.Bidirectional(keras.layers.LSTM(32))", "keras.layers.LSTM(32)")]}),
        Crafted("vocab_20000", "Embedding(20_000, 32) in the four trained-from-scratch models",
                {g: [("keras.layers.Embedding(VOCAB, 32)", "keras.layers.Embedding(20_000, 32)")]
                 for g in ("basic", "dropout", "stacked", "bidirectional")}),
        Crafted("count_params_patched", "LSTM(64) hidden behind a patched count_params (instance and class)",
                {"basic": [("keras.layers.LSTM(32)", "keras.layers.LSTM(64)"),
                           ("    return model\n",
                            "    model.count_params = lambda: 328_353\n"
                            "    keras.Model.count_params = lambda self: 328_353\n"
                            "    return model\n")]}),
        Crafted("post_padding", "pads at the end and keeps the first SEQ_LEN words",
                {"pad_front": [("tail = list(seq)[-seq_len:] if seq_len > 0 else []", "tail = list(seq)[:seq_len]"),
                               ("out[k, seq_len - len(tail):] = tail", "out[k, :len(tail)] = tail")]}),
        Crafted("glove_trainable", "the GloVe embedding is left trainable",
                {"glove_model": [("trainable=False", "trainable=True")]}),
    ],
    "char_generation": [
        Crafted("input_shape_swapped", "the char model reads (1, 100): time steps and features swapped",
                {"char_model": [("keras.Input(shape=(seq_length, 1))", "keras.Input(shape=(1, seq_length))")]}),
        Crafted("target_off_by_one", "targets y[i] = t[i + 99], the last input character",
                {"dataset": [("Y[np.arange(n), ids[seq_length:]] = 1.0", "Y[np.arange(n), ids[seq_length - 1:-1]] = 1.0")]}),
    ],
}

# Autograded points. (Manual answer cells, 2 points in lstm_vs_gru and char_generation, are not scored by
# the autograder; they stay ungraded until an instructor grades them.)
MAX_AUTO = {"lstm_cell": 14, "lstm_vs_gru": 9, "imdb_sentiment": 16, "char_generation": 14}
EXPECTED: dict[str, dict[str, float]] = {
    "lstm_cell": {"reference": 14, "blank": 0, "cell_no_tanh": 2},  # sigmoid 1 + shapes 1
    "lstm_vs_gru": {"reference": 9, "blank": 0,
                    "formula_no_bias": 7,  # -2 test_lstm_params
                    "gru_for_lstm": 5},  # -2 test_model_layers, -2 test_model_params
    "imdb_sentiment": {"reference": 16, "blank": 0,
                       "hidden_64": 13,  # -3 test_basic_model
                       "stack_return_sequences": 14,  # -2 test_stacked_model
                       "no_bidirectional": 14,  # -2 test_bidirectional_model
                       "vocab_20000": 8,  # -3 basic, -1 dropout, -2 stacked, -2 bidirectional
                       "count_params_patched": 13,  # -3 test_basic_model
                       "post_padding": 12,  # -2 test_pad_front, -2 test_sequences
                       "glove_trainable": 13},  # -2 test_glove_model, -1 test_glove_frozen
    "char_generation": {"reference": 14, "blank": 0,
                        "input_shape_swapped": 10,  # -2 test_char_model, -2 test_generate
                        "target_off_by_one": 11},  # -3 test_dataset
}


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def solution_sources(assignment: str, root: Path = REPO) -> dict[str, str]:
    """grade_id -> source of every solution cell of the source notebook (code and written answers)."""
    nb = nbformat.read(root / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return {_grade_id(c): c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def released(assignment: str, root: Path = REPO) -> nbformat.NotebookNode:
    """The student version as released (exercises/<a>/<a>.ipynb)."""
    return nbformat.read(root / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)


def filled(assignment: str, edits: dict[str, list[tuple[str, str]]] | None = None, root: Path = REPO):
    """The released notebook with every solution cell answered by the reference, then `edits` applied."""
    answers = solution_sources(assignment, root)
    for gid, changes in (edits or {}).items():
        if gid not in answers:
            raise KeyError(f"{assignment}: no solution cell {gid!r}")
        for old, new in changes:
            count = answers[gid].count(old)
            if count != 1:
                raise ValueError(f"{assignment}/{gid}: the edit target occurs {count} times: {old!r}")
            answers[gid] = answers[gid].replace(old, new)
    nb = copy.deepcopy(released(assignment, root))
    for cell in nb.cells:
        gid = _grade_id(cell)
        if cell.metadata.get("nbgrader", {}).get("solution") and gid in answers:
            cell.source = _strip_markers(answers[gid])
    return nb


def _strip_markers(source: str) -> str:
    """Remove the nbgrader solution markers (a student's notebook never has them)."""
    lines = [ln for ln in source.splitlines() if ln.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
    return "\n".join(lines)


def submissions(assignment: str, root: Path = REPO) -> dict[str, nbformat.NotebookNode]:
    """student -> notebook: "reference", "blank" and the crafted ones of the assignment."""
    subs = {"reference": filled(assignment, root=root), "blank": released(assignment, root)}
    for crafted in CRAFTED.get(assignment, []):
        subs[crafted.student] = filled(assignment, crafted.edits, root)
    return subs


def write_submissions(assignment: str, out: Path, root: Path = REPO) -> Path:
    """Write out/<student>/<assignment>/<assignment>.ipynb for every submission; returns `out`."""
    for student, nb in submissions(assignment, root).items():
        folder = out / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{assignment}.ipynb")
    return out


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    target = Path(sys.argv[1])
    for a in sys.argv[2:] or ASSIGNMENTS:
        write_submissions(a, target / a)
        print("wrote", target / a)
