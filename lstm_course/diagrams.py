"""Matplotlib drawings for the book: the LSTM cell as a conveyor belt and the four sequence patterns."""

from __future__ import annotations

from typing import NamedTuple

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

# One palette for every diagram of the book (colour-blind safe, Okabe-Ito).
GATE_COLOR = "#E69F00"  # sigmoid / tanh layers (learned weights)
POINTWISE_COLOR = "#56B4E9"  # elementwise operations (no weights)
BELT_COLOR = "#009E73"  # cell state c
HIDDEN_COLOR = "#0072B2"  # hidden state h
INPUT_COLOR = "#CC79A7"  # inputs x
LINE_COLOR = "#333333"


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], color: str = LINE_COLOR,
           lw: float = 1.5, head: bool = True, z: int = 1) -> None:
    """Straight line from start to end, with an arrow head at end when `head`."""
    style = "-|>" if head else "-"
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12, color=color, lw=lw,
                                 shrinkA=0, shrinkB=0, zorder=z))


def _path(ax: Axes, points: list[tuple[float, float]], color: str = LINE_COLOR, lw: float = 1.5,
          z: int = 1) -> None:
    """Polyline through `points` with an arrow head on its last segment."""
    for a, b in zip(points[:-2], points[1:-1]):
        _arrow(ax, a, b, color=color, lw=lw, head=False, z=z)
    _arrow(ax, points[-2], points[-1], color=color, lw=lw, z=z)


def _layer(ax: Axes, x: float, y: float, text: str, name: str, w: float = 1.1, h: float = 0.7) -> None:
    """A neural-network layer (learned weights): a box centred at (x, y) with its activation and its name."""
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04,rounding_size=0.12",
                                fc=GATE_COLOR, ec=LINE_COLOR, lw=1.2, zorder=3))
    ax.text(x, y + 0.1, text, ha="center", va="center", fontsize=13, zorder=4)
    ax.text(x, y - 0.22, name, ha="center", va="center", fontsize=7.5, color="#333333", zorder=4)


def _pointwise(ax: Axes, x: float, y: float, symbol: str, r: float = 0.28, fontsize: float = 13) -> None:
    """An elementwise operation (no weights): a circle centred at (x, y)."""
    ax.add_patch(Circle((x, y), r, fc=POINTWISE_COLOR, ec=LINE_COLOR, lw=1.2, zorder=3))
    ax.text(x, y, symbol, ha="center", va="center", fontsize=fontsize, zorder=4)


def draw_lstm_cell(ax: Axes | None = None) -> Figure:
    """Draw one LSTM cell: the cell state c_{t-1} -> c_t runs along the top as a conveyor belt,
    the four layers (forget, input, candidate, output) sit below and read [h_{t-1}, x_t].

    Returns the figure (a new one when `ax` is None).
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(9, 5.2))
    else:
        fig = ax.figure
    belt_y, bus_y, gate_y = 5.0, 1.0, 2.4
    x_f, x_i, x_c, x_o, x_out = 2.0, 3.6, 5.0, 6.6, 8.2

    # the cell
    ax.add_patch(FancyBboxPatch((0.8, 0.35), 8.9, 5.25, boxstyle="round,pad=0.02,rounding_size=0.35",
                                fc="#F4F4F4", ec="#999999", lw=1.0, zorder=0))

    # conveyor belt: c_{t-1} -> (x) -> (+) -> c_t
    _arrow(ax, (-0.2, belt_y), (x_f - 0.28, belt_y), color=BELT_COLOR, lw=3.5, head=False, z=2)
    _arrow(ax, (x_f + 0.28, belt_y), (x_c - 0.28, belt_y), color=BELT_COLOR, lw=3.5, head=False, z=2)
    _arrow(ax, (x_c + 0.28, belt_y), (10.7, belt_y), color=BELT_COLOR, lw=3.5, z=2)
    ax.text(-0.25, belt_y + 0.3, r"$c_{t-1}$", fontsize=14, color=BELT_COLOR, ha="left")
    ax.text(10.7, belt_y + 0.3, r"$c_t$", fontsize=14, color=BELT_COLOR, ha="right")
    _pointwise(ax, x_f, belt_y, r"$\odot$")
    _pointwise(ax, x_c, belt_y, r"$+$")

    # bus carrying [h_{t-1}, x_t] under the layers
    _arrow(ax, (-0.2, bus_y), (x_o, bus_y), color=HIDDEN_COLOR, lw=2.0, head=False, z=1)
    ax.text(-0.25, bus_y + 0.25, r"$h_{t-1}$", fontsize=14, color=HIDDEN_COLOR, ha="left")
    _arrow(ax, (1.2, -0.35), (1.2, bus_y), color=INPUT_COLOR, lw=2.0, z=1)
    ax.text(1.2, -0.45, r"$x_t$", fontsize=14, color=INPUT_COLOR, ha="center", va="top")
    for x in (x_f, x_i, x_c, x_o):
        _arrow(ax, (x, bus_y), (x, gate_y - 0.35), lw=1.5, z=1)

    # the four layers
    _layer(ax, x_f, gate_y, r"$\sigma$", "forget")
    _layer(ax, x_i, gate_y, r"$\sigma$", "input")
    _layer(ax, x_c, gate_y, r"$\tanh$", "candidate")
    _layer(ax, x_o, gate_y, r"$\sigma$", "output")

    # forget gate scales the old cell state
    _arrow(ax, (x_f, gate_y + 0.35), (x_f, belt_y - 0.28))
    ax.text(x_f + 0.1, 3.7, r"$f_t$", fontsize=13, ha="left")
    # input gate times candidate, added to the belt
    mid_y = 3.9
    _pointwise(ax, x_c, mid_y, r"$\odot$")
    _path(ax, [(x_i, gate_y + 0.35), (x_i, mid_y), (x_c - 0.28, mid_y)])
    ax.text(x_i - 0.1, 3.1, r"$i_t$", fontsize=13, ha="right")
    _arrow(ax, (x_c, gate_y + 0.35), (x_c, mid_y - 0.28))
    ax.text(x_c + 0.1, 3.1, r"$\tilde c_t$", fontsize=13, ha="left")
    _arrow(ax, (x_c, mid_y + 0.28), (x_c, belt_y - 0.28))

    # output: tanh(c_t) gated by o_t
    tanh_y, out_y = 3.9, 2.4
    _arrow(ax, (x_out, belt_y), (x_out, tanh_y + 0.28), color=BELT_COLOR, lw=1.5)
    _pointwise(ax, x_out, tanh_y, r"$\tanh$", r=0.36, fontsize=10)
    _arrow(ax, (x_out, tanh_y - 0.36), (x_out, out_y + 0.28))
    _pointwise(ax, x_out, out_y, r"$\odot$")
    _path(ax, [(x_o, gate_y + 0.35), (x_o, 3.1), (7.4, 3.1), (7.4, out_y), (x_out - 0.28, out_y)])
    ax.text(x_o + 0.1, 3.2, r"$o_t$", fontsize=13, ha="left", va="bottom")
    _path(ax, [(x_out, out_y - 0.28), (x_out, bus_y), (10.7, bus_y)], color=HIDDEN_COLOR, lw=2.0)
    ax.text(10.7, bus_y + 0.25, r"$h_t$", fontsize=14, color=HIDDEN_COLOR, ha="right")

    # legend
    ax.add_patch(FancyBboxPatch((0.2, -1.25), 0.45, 0.3, boxstyle="round,pad=0.02", fc=GATE_COLOR, ec=LINE_COLOR))
    ax.text(0.8, -1.1, "layer with weights W, U, b", va="center", fontsize=9)
    ax.add_patch(Circle((4.4, -1.1), 0.16, fc=POINTWISE_COLOR, ec=LINE_COLOR))
    ax.text(4.7, -1.1, "elementwise operation", va="center", fontsize=9)
    _arrow(ax, (8.0, -1.1), (8.6, -1.1), color=BELT_COLOR, lw=3.5, head=False)
    ax.text(8.75, -1.1, "cell state", va="center", fontsize=9)

    ax.set_xlim(-0.4, 10.9)
    ax.set_ylim(-1.5, 5.9)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def _node(ax: Axes, x: float, y: float, text: str, color: str, size: float = 0.6) -> None:
    """A square node of an unrolled network (input, hidden state or output) centred at (x, y)."""
    ax.add_patch(FancyBboxPatch((x - size / 2, y - size / 2), size, size, boxstyle="round,pad=0.02,rounding_size=0.1",
                                fc=color, ec=LINE_COLOR, lw=1.0, zorder=3))
    ax.text(x, y, text, ha="center", va="center", fontsize=9, color="white", zorder=4)


class SequencePattern(NamedTuple):
    """One input/output pattern of a recurrent network, unrolled over `steps` time steps."""

    title: str
    example: str
    inputs: list[int]  # steps that read an input x given from outside
    outputs: list[int]  # steps that emit an output y
    steps: int
    fed_back: list[int]  # steps whose sampled output y becomes the input x of the next step


SEQUENCE_PATTERNS: list[SequencePattern] = [
    SequencePattern("many-to-one", "sentiment of a review", [0, 1, 2, 3], [3], 4, []),
    SequencePattern("many-to-many (aligned)", "tagging each word", [0, 1, 2, 3], [0, 1, 2, 3], 4, []),
    SequencePattern("one-to-many", "generating text", [0], [0, 1, 2, 3], 4, [0, 1, 2]),
    SequencePattern("sequence-to-sequence", "translation: encoder, then decoder", [0, 1, 2], [3, 4, 5], 6, [3, 4]),
]
FEEDBACK_GID = "feedback"  # gid of the arrows that carry a sampled output to the next input


def _feedback_arrow(ax: Axes, t: int) -> None:
    """Dashed path from the output y of step t (top row) down the gap between the columns to the input x
    of step t + 1 (bottom row); it crosses the h -> h arrow without joining it."""
    x_gap = t + 0.5
    ax.add_line(Line2D([t + 0.3, x_gap, x_gap], [2.0, 2.0, 0.0], color=GATE_COLOR, lw=1.4, ls=(0, (3, 2)),
                       zorder=2, gid=FEEDBACK_GID))
    ax.add_patch(FancyArrowPatch((x_gap, 0.0), (t + 0.7, 0.0), arrowstyle="-|>", mutation_scale=10,
                                 color=GATE_COLOR, lw=1.4, shrinkA=0, shrinkB=0, zorder=2, gid=FEEDBACK_GID))


def draw_sequence_patterns(axes: list[Axes] | None = None) -> Figure:
    """Draw the four input/output patterns of recurrent networks, unrolled in time (one panel each).

    Where a pattern generates (one-to-many, the decoder of sequence-to-sequence), a dashed arrow
    carries the output sampled at step t back in as the input of step t + 1.
    """
    if axes is None:
        fig, axes = plt.subplots(1, 4, figsize=(13, 3.6), gridspec_kw={"width_ratios": [4, 4, 4, 6]})
    else:
        fig = axes[0].figure
    for ax, pattern in zip(axes, SEQUENCE_PATTERNS):
        fed_inputs = {t + 1 for t in pattern.fed_back}
        for t in range(pattern.steps):
            _node(ax, t, 1.0, "h", HIDDEN_COLOR)
            if t + 1 < pattern.steps:
                _arrow(ax, (t + 0.3, 1.0), (t + 0.7, 1.0))
            if t in pattern.inputs or t in fed_inputs:
                _node(ax, t, 0.0, "x", INPUT_COLOR)
                _arrow(ax, (t, 0.3), (t, 0.7))
            if t in pattern.outputs:
                _node(ax, t, 2.0, "y", GATE_COLOR)
                _arrow(ax, (t, 1.3), (t, 1.7))
            if t in pattern.fed_back:
                _feedback_arrow(ax, t)
        if pattern.fed_back:
            ax.text((pattern.steps - 1) / 2, -1.15, "dashed: sampled y fed back as the next x", ha="center",
                    fontsize=8, color="#555555")
        if pattern.title == "sequence-to-sequence":
            ax.plot([2.5, 2.5], [-0.9, 2.4], color="#999999", ls="--", lw=1)
            ax.text(1.0, -0.7, "encoder", ha="center", fontsize=9)
            ax.text(4.0, -0.7, "decoder", ha="center", fontsize=9)
        ax.set_title(f"{pattern.title}\n({pattern.example})", fontsize=10)
        ax.set_xlim(-0.6, pattern.steps - 0.4)
        ax.set_ylim(-1.4, 2.5)
        ax.set_aspect("equal")
        ax.axis("off")
    return fig
