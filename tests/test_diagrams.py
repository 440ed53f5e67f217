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
    for ax, pattern in zip(fig.axes, diagrams.SEQUENCE_PATTERNS):
        assert ax.get_title().startswith(pattern.title)
        assert sum(t.get_text() == "y" for t in ax.texts) == len(pattern.outputs)
    plt.close(fig)


def test_generating_patterns_feed_the_sampled_output_back():
    """Do one-to-many and the seq2seq decoder draw an arrow from each sampled y to the next step's x?"""
    patterns = {p.title: p for p in diagrams.SEQUENCE_PATTERNS}
    assert patterns["one-to-many"].fed_back == [0, 1, 2]
    assert patterns["sequence-to-sequence"].fed_back == [3, 4]  # the decoder's steps, not the encoder's
    fig = diagrams.draw_sequence_patterns()
    for ax, pattern in zip(fig.axes, diagrams.SEQUENCE_PATTERNS):
        heads = [p for p in ax.patches if p.get_gid() == diagrams.FEEDBACK_GID]
        lines = [line for line in ax.lines if line.get_gid() == diagrams.FEEDBACK_GID]
        assert len(heads) == len(lines) == len(pattern.fed_back), pattern.title
        for line, t in zip(lines, pattern.fed_back):
            xs, ys = line.get_xdata(), line.get_ydata()
            assert (xs[0], ys[0]) == (t + 0.3, 2.0), "the path must leave from the right edge of y at step t"
            assert ys[-1] == 0.0 and t < xs[-1] < t + 1, "... and come down to the row of x before step t + 1"
        inputs = set(pattern.inputs) | {t + 1 for t in pattern.fed_back}
        assert all(t + 1 < pattern.steps and t in pattern.outputs for t in pattern.fed_back)
        assert sum(t.get_text() == "x" for t in ax.texts) == len(inputs)
    plt.close(fig)
