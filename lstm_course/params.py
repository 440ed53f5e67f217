"""Parameter counting formulas for recurrent, embedding and dense layers in Keras and PyTorch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

Framework = Literal["keras", "torch"]
FRAMEWORKS = ("keras", "torch")

# Why Keras and PyTorch differ: a gate computes x_t W + h_{t-1} U + bias. Keras keeps one bias
# vector per gate; PyTorch keeps two (bias_ih and bias_hh) that are only ever added, so it has h
# more parameters per gate. The Keras GRU with reset_after=True (its default) also keeps two
# biases, because the recurrent bias of the candidate sits inside r_t * (h_{t-1} U_h + rb_h).


def _check_framework(framework: str) -> None:
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")


def _biases_per_gate(framework: str) -> int:
    """1 bias vector per gate in Keras, 2 (bias_ih and bias_hh) in PyTorch."""
    _check_framework(framework)
    return 1 if framework == "keras" else 2


def count_simple_rnn_params(h: int, x: int, framework: Framework = "keras") -> int:
    """Simple RNN with h units on x inputs: h(h + x) + h in Keras, h(h + x) + 2h in PyTorch."""
    return h * (h + x) + _biases_per_gate(framework) * h


def count_lstm_weights(h: int, x: int) -> int:
    """Weights of an LSTM with h units on x inputs, biases left out: 4h(h + x), the same in both frameworks.

    This is all that the summary formula 4 * shape(h) * [shape(h) + shape(x)] of Wang's slides counts;
    a real layer also has its biases (count_lstm_biases).
    """
    return 4 * h * (h + x)


def count_lstm_biases(h: int, framework: Framework = "keras") -> int:
    """Biases of an LSTM with h units: 4h in Keras (one vector), 8h in PyTorch (bias_ih and bias_hh)."""
    return 4 * _biases_per_gate(framework) * h


def count_lstm_params(h: int, x: int, framework: Framework = "keras") -> int:
    """LSTM with h units on x inputs: 4 gates of h(h + x) weights; + 4h biases (Keras) or + 8h (PyTorch)."""
    return count_lstm_weights(h, x) + count_lstm_biases(h, framework)


def count_gru_params(h: int, x: int, framework: Framework = "keras", reset_after: bool = True) -> int:
    """GRU with h units on x inputs: 3h(h + x) + 3h (Keras, reset_after=False) or + 6h (reset_after=True, PyTorch).

    PyTorch only implements the reset_after=True variant, so reset_after=False with "torch" is an error.
    """
    _check_framework(framework)
    if framework == "torch" and not reset_after:
        raise ValueError("torch.nn.GRU always applies the reset gate after the matrix product (reset_after=True)")
    biases_per_gate = 2 if reset_after else 1
    return 3 * h * (h + x) + 3 * biases_per_gate * h


def count_embedding_params(vocab: int, dim: int) -> int:
    """Embedding table: one dim-vector per word, vocab * dim (the same in both frameworks)."""
    return vocab * dim


def count_dense_params(units: int, inputs: int, use_bias: bool = True) -> int:
    """Dense (Keras) / Linear (PyTorch) layer: units * inputs weights + units biases."""
    return units * inputs + (units if use_bias else 0)


# ----------------------------------------------------------------------------------------------
# Whole models described by a list of layer specs
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Embedding:
    """Embedding(vocab, dim): maps word ids to dim-vectors; trainable=False for a frozen (pretrained) table."""

    vocab: int
    dim: int
    trainable: bool = True


@dataclass(frozen=True)
class SimpleRNN:
    """SimpleRNN(units) (torch.nn.RNN with tanh)."""

    units: int
    bidirectional: bool = False
    return_sequences: bool = False
    trainable: bool = True


@dataclass(frozen=True)
class LSTM:
    """LSTM(units); bidirectional=True doubles the parameters and the output size."""

    units: int
    bidirectional: bool = False
    return_sequences: bool = False
    trainable: bool = True


@dataclass(frozen=True)
class GRU:
    """GRU(units); reset_after=True is the Keras default and the only PyTorch variant."""

    units: int
    reset_after: bool = True
    bidirectional: bool = False
    return_sequences: bool = False
    trainable: bool = True


@dataclass(frozen=True)
class Dense:
    """Dense(units) (torch.nn.Linear), applied to the last axis of its input."""

    units: int
    use_bias: bool = True
    trainable: bool = True


LayerSpec = Union[Embedding, SimpleRNN, LSTM, GRU, Dense]


@dataclass
class ParamReport:
    """Parameter counts of a model: total, trainable, non-trainable and one (name, count) per layer."""

    framework: str
    per_layer: list[tuple[str, int]] = field(default_factory=list)
    trainable: int = 0
    non_trainable: int = 0

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable

    def __str__(self) -> str:
        width = max([len(name) for name, _ in self.per_layer] + [len("Non-trainable")])
        lines = [f"{name:<{width}}  {count:>12,}" for name, count in self.per_layer]
        rule = "-" * (width + 14)
        lines += [
            rule,
            f"{'Total':<{width}}  {self.total:>12,}",
            f"{'Trainable':<{width}}  {self.trainable:>12,}",
            f"{'Non-trainable':<{width}}  {self.non_trainable:>12,}",
        ]
        return "\n".join(lines)


def _layer_name(spec: LayerSpec) -> str:
    """Short Keras-like name of a layer spec, e.g. "Bidirectional(LSTM(32))"."""
    if isinstance(spec, Embedding):
        name = f"Embedding({spec.vocab}, {spec.dim})"
        return name if spec.trainable else name + " [frozen]"
    if isinstance(spec, Dense):
        name = f"Dense({spec.units})"
    elif isinstance(spec, GRU) and not spec.reset_after:
        name = f"GRU({spec.units}, reset_after=False)"
    else:
        name = f"{type(spec).__name__}({spec.units})"
    if getattr(spec, "bidirectional", False):
        name = f"Bidirectional({name})"
    return name + ("" if spec.trainable else " [frozen]")


def _count_layer(spec: LayerSpec, inputs: int, framework: str) -> tuple[int, int]:
    """(parameter count, output size) of one layer spec on inputs features."""
    if isinstance(spec, Embedding):
        return count_embedding_params(spec.vocab, spec.dim), spec.dim
    if isinstance(spec, Dense):
        return count_dense_params(spec.units, inputs, spec.use_bias), spec.units
    if isinstance(spec, SimpleRNN):
        one_direction = count_simple_rnn_params(spec.units, inputs, framework)
    elif isinstance(spec, LSTM):
        one_direction = count_lstm_params(spec.units, inputs, framework)
    elif isinstance(spec, GRU):
        one_direction = count_gru_params(spec.units, inputs, framework, spec.reset_after)
    else:
        raise TypeError(f"unknown layer spec {spec!r}")
    directions = 2 if spec.bidirectional else 1
    return directions * one_direction, directions * spec.units


def count_model_params(
    layers: list[LayerSpec], input_dim: int | None = None, framework: Framework = "keras"
) -> ParamReport:
    """Count the parameters of a sequential model given as layer specs.

    input_dim is the feature size of the input; it may be omitted when the first layer is an Embedding.
    With framework="keras", a recurrent layer must follow an Embedding, the input or a recurrent
    layer with return_sequences=True (Keras refuses anything else); PyTorch stacks need no flag.

    >>> report = count_model_params([Embedding(10_000, 32), LSTM(32), Dense(1)])
    >>> report.total, report.per_layer[1]
    (328353, ('LSTM(32)', 8320))
    """
    _check_framework(framework)
    report = ParamReport(framework=framework)
    size = input_dim
    is_sequence = True  # the model input is a sequence
    for position, spec in enumerate(layers):
        if size is None and not isinstance(spec, Embedding):
            raise ValueError("input_dim is required when the first layer is not an Embedding")
        recurrent = isinstance(spec, (SimpleRNN, LSTM, GRU))
        if framework == "keras" and recurrent and not is_sequence:
            raise ValueError(
                f"layer {position} ({_layer_name(spec)}) gets a single vector per example: "
                "set return_sequences=True on the recurrent layer before it"
            )
        count, size = _count_layer(spec, size if size is not None else 0, framework)
        if recurrent:
            is_sequence = spec.return_sequences
        report.per_layer.append((_layer_name(spec), count))
        if spec.trainable:
            report.trainable += count
        else:
            report.non_trainable += count
    return report
