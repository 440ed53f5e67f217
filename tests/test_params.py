"""Do the parameter-counting formulas match Shusen Wang's LSTM slides, Keras' count_params() and PyTorch's numel()?"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lstm_course import params as pc  # noqa: E402
from lstm_course.params import GRU, LSTM, Dense, Embedding, SimpleRNN, count_model_params  # noqa: E402

PROPERTY_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------------------------
# Framework models built from the same layer specs
# ----------------------------------------------------------------------------------------------


def keras_model(layers: list, input_dim: int | None = None):  # noqa: ANN201
    """A built keras.Sequential for the layer specs (integer input when the first layer is an Embedding)."""
    keras = pytest.importorskip("keras")
    if isinstance(layers[0], Embedding):
        built = [keras.Input(shape=(None,), dtype="int32")]
    else:
        built = [keras.Input(shape=(None, input_dim))]
    for spec in layers:
        if isinstance(spec, Embedding):
            layer = keras.layers.Embedding(spec.vocab, spec.dim)
        elif isinstance(spec, Dense):
            layer = keras.layers.Dense(spec.units, use_bias=spec.use_bias)
        else:
            kwargs = {"return_sequences": spec.return_sequences}
            if isinstance(spec, LSTM):
                layer = keras.layers.LSTM(spec.units, **kwargs)
            elif isinstance(spec, GRU):
                layer = keras.layers.GRU(spec.units, reset_after=spec.reset_after, **kwargs)
            else:
                layer = keras.layers.SimpleRNN(spec.units, **kwargs)
            if spec.bidirectional:
                layer = keras.layers.Bidirectional(layer)
        layer.trainable = spec.trainable
        built.append(layer)
    return keras.Sequential(built)


def keras_counts(model) -> tuple[int, int, int]:  # noqa: ANN001
    """(total, trainable, non-trainable) of a Keras model, the last two from its weight lists."""
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return model.count_params(), trainable, non_trainable


def torch_modules(layers: list, input_dim: int | None = None) -> list:
    """One torch module per layer spec (nn.Embedding, nn.RNN/LSTM/GRU, nn.Linear), frozen where asked."""
    torch = pytest.importorskip("torch")
    modules, size = [], input_dim
    for spec in layers:
        if isinstance(spec, Embedding):
            module, size = torch.nn.Embedding(spec.vocab, spec.dim), spec.dim
        elif isinstance(spec, Dense):
            module, size = torch.nn.Linear(size, spec.units, bias=spec.use_bias), spec.units
        else:
            cls = {SimpleRNN: torch.nn.RNN, LSTM: torch.nn.LSTM, GRU: torch.nn.GRU}[type(spec)]
            module = cls(size, spec.units, batch_first=True, bidirectional=spec.bidirectional)
            size = spec.units * (2 if spec.bidirectional else 1)
        module.requires_grad_(spec.trainable)
        modules.append(module)
    return modules


def torch_counts(modules: list) -> tuple[int, int, int]:
    """(total, trainable, non-trainable) as sums of p.numel() over the modules' parameters."""
    every = [p for m in modules for p in m.parameters()]
    trainable = sum(p.numel() for p in every if p.requires_grad)
    total = sum(p.numel() for p in every)
    return total, trainable, total - trainable


def report_counts(report: pc.ParamReport) -> tuple[int, int, int]:
    return report.total, report.trainable, report.non_trainable


# ----------------------------------------------------------------------------------------------
# The figures of Shusen Wang's LSTM slides (wang_lstm_slides in references.bib): the IMDB model,
# its bidirectional version and its three-layer stack
# ----------------------------------------------------------------------------------------------

SLIDES_MODEL = [Embedding(10_000, 32), LSTM(32), Dense(1)]
SLIDES_BIDIRECTIONAL = [Embedding(10_000, 32), LSTM(32, bidirectional=True), Dense(1)]
SLIDES_STACKED = [
    Embedding(10_000, 32),
    LSTM(32, return_sequences=True),
    LSTM(32, return_sequences=True),
    LSTM(32),
    Dense(1),
]


def test_slides_lstm_figures() -> None:
    """Are Wang's figures right: 320,000 + 8,320 (= 4 x 2,080) + 33 = 328,353?"""
    assert pc.count_embedding_params(10_000, 32) == 320_000
    one_gate = 32 * (32 + 32) + 32
    assert one_gate == 2_080
    assert pc.count_lstm_params(32, 32) == 4 * one_gate == 8_320
    assert pc.count_dense_params(1, 32) == 33
    report = count_model_params(SLIDES_MODEL)
    assert report.per_layer == [("Embedding(10000, 32)", 320_000), ("LSTM(32)", 8_320), ("Dense(1)", 33)]
    assert report_counts(report) == (328_353, 328_353, 0)


def test_slides_bidirectional_figures() -> None:
    """Bidirectional(LSTM(32)): 16,640, then Dense 65 (it reads 64 features), total 336,705?"""
    report = count_model_params(SLIDES_BIDIRECTIONAL)
    assert [count for _, count in report.per_layer] == [320_000, 16_640, 65]
    assert report.total == 336_705


def test_three_stacked_lstms_both_ways() -> None:
    """Three stacked LSTM(32): is the formula's figure (320,000 + 3 x 8,320 + 33) Keras' count_params()?"""
    report = count_model_params(SLIDES_STACKED)
    assert report.total == 320_000 + 3 * 8_320 + 33 == 344_993
    model = keras_model(SLIDES_STACKED)
    assert model.count_params() == report.total
    assert [layer.count_params() for layer in model.layers] == [count for _, count in report.per_layer]


def test_slides_models_match_keras() -> None:
    """Does Keras count Wang's models as we do, layer by layer?"""
    for layers in (SLIDES_MODEL, SLIDES_BIDIRECTIONAL):
        model = keras_model(layers)
        report = count_model_params(layers)
        assert keras_counts(model) == report_counts(report)
        assert [layer.count_params() for layer in model.layers] == [count for _, count in report.per_layer]


def test_wang_summary_formula_counts_the_weights_only() -> None:
    """Does Wang's summary formula 4h(h + x) give the weights only (8,192 for LSTM(32) on 32 inputs), and do
    count_lstm_weights and count_lstm_biases split a layer as Keras' and PyTorch's own arrays do?"""
    keras = pytest.importorskip("keras")
    torch = pytest.importorskip("torch")
    assert pc.count_lstm_weights(32, 32) == 4 * 32 * (32 + 32) == 8_192
    assert pc.count_lstm_biases(32) == 128 and pc.count_lstm_biases(32, "torch") == 256
    for h, x in [(32, 32), (5, 3), (64, 50)]:
        layer = keras.layers.LSTM(h)
        layer.build((None, None, x))
        sizes = {w.path.split("/")[-1]: int(np.prod(w.shape)) for w in layer.weights}
        assert sizes["kernel"] + sizes["recurrent_kernel"] == pc.count_lstm_weights(h, x)
        assert sizes["bias"] == pc.count_lstm_biases(h, "keras")
        module = torch.nn.LSTM(x, h)
        named = dict(module.named_parameters())
        assert sum(p.numel() for n, p in named.items() if n.startswith("weight")) == pc.count_lstm_weights(h, x)
        assert sum(p.numel() for n, p in named.items() if n.startswith("bias")) == pc.count_lstm_biases(h, "torch")
        for framework in ("keras", "torch"):
            total = pc.count_lstm_weights(h, x) + pc.count_lstm_biases(h, framework)
            assert pc.count_lstm_params(h, x, framework) == total


def test_stacked_bidirectional_upper_layer_reads_2h() -> None:
    """Does a second Bidirectional(LSTM(32)) read 64 features: 2 x (4*32*(32 + 64) + 4*32) = 24,832 in Keras,
    361,537 for the whole model, and 50,176 + 99,328 = 149,504 for nn.LSTM(32, 64, 2, bidirectional=True)?"""
    torch = pytest.importorskip("torch")
    layers = [Embedding(10_000, 32), LSTM(32, bidirectional=True, return_sequences=True),
              LSTM(32, bidirectional=True), Dense(1)]
    report = count_model_params(layers)
    assert [count for _, count in report.per_layer] == [320_000, 16_640, 24_832, 65]
    assert report.total == 361_537
    model = keras_model(layers)
    assert [layer.count_params() for layer in model.layers] == [count for _, count in report.per_layer]
    module = torch.nn.LSTM(32, 64, num_layers=2, bidirectional=True)
    per_layer = [sum(p.numel() for n, p in module.named_parameters() if f"_l{k}" in n) for k in range(2)]
    assert per_layer == [50_176, 99_328]
    stack = [LSTM(64, bidirectional=True, return_sequences=True)] * 2
    assert count_model_params(stack, input_dim=32, framework="torch").total == 149_504 == sum(per_layer)


def test_torch_lstm_has_two_biases() -> None:
    """Is torch.nn.LSTM(32, 32) 8,448 parameters = 8,320 + 4 x 32 for its second bias?"""
    torch = pytest.importorskip("torch")
    assert pc.count_lstm_params(32, 32, framework="torch") == 8_448 == 8_320 + 4 * 32
    assert sum(p.numel() for p in torch.nn.LSTM(32, 32).parameters()) == 8_448
    stacked = torch.nn.LSTM(32, 32, num_layers=3)
    assert sum(p.numel() for p in stacked.parameters()) == 3 * 8_448
    assert count_model_params([LSTM(32)] * 3, input_dim=32, framework="torch").total == 3 * 8_448


def test_frozen_embedding_is_non_trainable() -> None:
    """With a frozen pretrained embedding, are its 320,000 weights non-trainable in our report, Keras and torch?"""
    layers = [Embedding(10_000, 32, trainable=False), LSTM(32), Dense(1)]
    report = count_model_params(layers)
    assert report_counts(report) == (328_353, 8_353, 320_000)
    assert keras_counts(keras_model(layers)) == report_counts(report)
    torch_report = count_model_params(layers, framework="torch")
    assert report_counts(torch_report) == (328_481, 8_481, 320_000)
    assert torch_counts(torch_modules(layers)) == report_counts(torch_report)


def test_single_layer_formulas() -> None:
    """Do the one-layer formulas give the documented closed forms in both frameworks?"""
    h, x = 7, 3
    assert pc.count_simple_rnn_params(h, x) == h * (h + x) + h
    assert pc.count_simple_rnn_params(h, x, "torch") == h * (h + x) + 2 * h
    assert pc.count_lstm_params(h, x) == 4 * h * (h + x) + 4 * h
    assert pc.count_lstm_params(h, x, "torch") == 4 * h * (h + x) + 8 * h
    assert pc.count_gru_params(h, x, reset_after=False) == 3 * h * (h + x) + 3 * h
    assert pc.count_gru_params(h, x, reset_after=True) == 3 * h * (h + x) + 6 * h
    assert pc.count_gru_params(h, x, "torch") == 3 * h * (h + x) + 6 * h
    assert pc.count_dense_params(4, 5, use_bias=False) == 20


def test_errors_are_explained() -> None:
    """Are an unknown framework, torch without reset_after, a missing input_dim and a Keras stack that
    feeds a single vector into a recurrent layer all refused with a message?"""
    with pytest.raises(ValueError, match="framework"):
        pc.count_lstm_params(2, 2, framework="jax")
    with pytest.raises(ValueError, match="reset_after"):
        pc.count_gru_params(2, 2, framework="torch", reset_after=False)
    with pytest.raises(ValueError, match="input_dim"):
        count_model_params([LSTM(4)])
    with pytest.raises(ValueError, match="return_sequences"):
        count_model_params([Embedding(10, 2), LSTM(4), LSTM(4)])
    # PyTorch stacks need no flag
    assert count_model_params([Embedding(10, 2), LSTM(4), LSTM(4)], framework="torch").total > 0


def test_report_prints_a_table() -> None:
    """Does str(report) list every layer and the three totals with thousands separators?"""
    text = str(count_model_params([Embedding(10_000, 32, trainable=False), LSTM(32, bidirectional=True), Dense(1)]))
    for expected in ("Embedding(10000, 32) [frozen]", "Bidirectional(LSTM(32))", "336,705", "Non-trainable", "320,000"):
        assert expected in text


# ----------------------------------------------------------------------------------------------
# Properties on random configurations
# ----------------------------------------------------------------------------------------------


@st.composite
def model_configs(draw: st.DrawFn, framework: str) -> tuple[list, int | None]:
    """A random small sequential model: optional (possibly frozen) Embedding, 1-3 recurrent layers, 0-2 Dense."""
    layers: list = []
    input_dim = None
    if draw(st.booleans()):
        layers.append(Embedding(draw(st.integers(2, 40)), draw(st.integers(1, 6)), trainable=draw(st.booleans())))
    else:
        input_dim = draw(st.integers(1, 6))
    n_recurrent = draw(st.integers(1, 3))
    for k in range(n_recurrent):
        kind = draw(st.sampled_from(["rnn", "lstm", "gru"]))
        units = draw(st.integers(1, 6))
        bidirectional = draw(st.booleans())
        return_sequences = k < n_recurrent - 1 or draw(st.booleans())
        trainable = draw(st.booleans())
        if kind == "rnn":
            layers.append(SimpleRNN(units, bidirectional, return_sequences, trainable))
        elif kind == "lstm":
            layers.append(LSTM(units, bidirectional, return_sequences, trainable))
        else:
            reset_after = framework == "torch" or draw(st.booleans())
            layers.append(GRU(units, reset_after, bidirectional, return_sequences, trainable))
    for _ in range(draw(st.integers(0, 2))):
        layers.append(Dense(draw(st.integers(1, 5)), use_bias=draw(st.booleans())))
    return layers, input_dim


@PROPERTY_SETTINGS
@given(model_configs(framework="keras"))
def test_property_keras_counts(config: tuple[list, int | None]) -> None:
    """On random models, do our total / trainable / non-trainable counts equal Keras'?"""
    layers, input_dim = config
    report = count_model_params(layers, input_dim=input_dim, framework="keras")
    model = keras_model(layers, input_dim)
    assert keras_counts(model) == report_counts(report)
    assert [layer.count_params() for layer in model.layers] == [count for _, count in report.per_layer]


@PROPERTY_SETTINGS
@given(model_configs(framework="torch"))
def test_property_torch_counts(config: tuple[list, int | None]) -> None:
    """On random models, do our counts equal the sums of p.numel() over the torch modules (frozen ones apart)?"""
    layers, input_dim = config
    report = count_model_params(layers, input_dim=input_dim, framework="torch")
    modules = torch_modules(layers, input_dim)
    assert torch_counts(modules) == report_counts(report)
    assert [sum(p.numel() for p in m.parameters()) for m in modules] == [count for _, count in report.per_layer]


@PROPERTY_SETTINGS
@given(
    kind=st.sampled_from(["rnn", "lstm", "gru"]),
    x=st.integers(1, 8),
    h=st.integers(1, 8),
    num_layers=st.integers(1, 3),
    bidirectional=st.booleans(),
)
def test_property_torch_num_layers(kind: str, x: int, h: int, num_layers: int, bidirectional: bool) -> None:
    """Is nn.LSTM/GRU/RNN(num_layers=L) counted as L stacked layer specs (layers > 0 read h or 2h features)?"""
    torch = pytest.importorskip("torch")
    cls, spec = {"rnn": (torch.nn.RNN, SimpleRNN), "lstm": (torch.nn.LSTM, LSTM), "gru": (torch.nn.GRU, GRU)}[kind]
    module = cls(x, h, num_layers=num_layers, bidirectional=bidirectional)
    layers = [spec(h, bidirectional=bidirectional, return_sequences=True) for _ in range(num_layers)]
    report = count_model_params(layers, input_dim=x, framework="torch")
    assert sum(p.numel() for p in module.parameters()) == report.total
