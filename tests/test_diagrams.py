"""Tests of lstm_course.diagrams (the book's matplotlib drawings)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from lstm_course import diagrams  # noqa: E402


def test_lstm_cell_draws_on_a_new_figure():
    """Does draw_lstm_cell return a figure with one axes holding the belt, layers and labels?"""
    fig = diagrams.draw_lstm_cell()
    (ax,) = fig.axes
    texts = {t.get_text() for t in ax.texts}
    assert {r"$c_{t-1}$", r"$c_t$", r"$h_{t-1}$", r"$h_t$", r"$x_t$", r"$f_t$", r"$i_t$", r"$o_t$"} <= texts
    assert {"forget", "input", "candidate", "output"} <= texts
    plt.close(fig)


def test_lstm_cell_draws_on_given_axes():
    """Does draw_lstm_cell draw on the axes it is given instead of making a new figure?"""
    fig, ax = plt.subplots()
    assert diagrams.draw_lstm_cell(ax) is fig
    assert len(ax.patches) > 10
    plt.close(fig)


def test_sequence_patterns_have_one_panel_each():
    """Does draw_sequence_patterns draw one titled panel per pattern, with as many outputs as the pattern says?"""
    fig = diagrams.draw_sequence_patterns()
    assert len(fig.axes) == len(diagrams.SEQUENCE_PATTERNS) == 4
    for ax, (title, _, _, outs, _) in zip(fig.axes, diagrams.SEQUENCE_PATTERNS):
        assert ax.get_title().startswith(title)
        assert sum(t.get_text() == "y" for t in ax.texts) == len(outs)
    plt.close(fig)
