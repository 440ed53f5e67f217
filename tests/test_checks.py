"""Tests of lstm_course.checks: the helpers the hidden tests of the graded exercises rely on."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np
import pytest

from lstm_course import checks
from lstm_course.params import count_gru_params, count_lstm_params

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")


def sequential(*layers, seq_len=20, dtype="int32"):
    shape = (seq_len,) if dtype == "int32" else (seq_len, 3)
    return keras.Sequential([keras.Input(shape=shape, dtype=dtype), *layers])


@pytest.fixture(scope="module")
def basic():
    return sequential(keras.layers.Embedding(10_000, 32), keras.layers.LSTM(32),
                      keras.layers.Dense(1, activation="sigmoid"))


def test_expected_shapes_match_the_formulas():
    """Do the expected weight shapes add up to the counting formulas of lstm_course.params?"""
    for h, x in [(1, 1), (32, 32), (7, 300)]:
        assert checks.expected_param_count("lstm", h, x) == count_lstm_params(h, x)
        assert checks.expected_param_count("lstm", h, x, "torch") == count_lstm_params(h, x, "torch")
        assert checks.expected_param_count("gru", h, x) == count_gru_params(h, x)
        assert checks.expected_param_count("gru", h, x, reset_after=False) == count_gru_params(h, x, reset_after=False)
    assert checks.expected_weight_shapes("lstm", 4, 3) == [(3, 16), (4, 16), (16,)]
    assert checks.expected_weight_shapes("gru", 4, 3) == [(3, 12), (4, 12), (2, 12)]
    assert checks.expected_weight_shapes("lstm", 4, 3, "torch") == [(16, 3), (16, 4), (16,), (16,)]


def test_unknown_kind_and_framework_are_errors():
    """Are a misspelt layer kind and an unknown framework refused?"""
    with pytest.raises(ValueError):
        checks.expected_weight_shapes("lstmm", 4, 3)
    with pytest.raises(ValueError):
        checks.expected_weight_shapes("lstm", 4, 3, framework="jax")


def test_keras_basic_model_counts_from_shapes(basic):
    """Does the basic IMDB model count 328,353 parameters, layer by layer, from its weight shapes?"""
    assert [n for _, n in checks.param_counts(basic)] == [320_000, 8_320, 33]
    assert checks.total_params(basic) == (328_353, 328_353)
    checks.check_param_counts(basic, [320_000, 8_320, 33])
    layers = checks.check_kinds(basic, ["embedding", "lstm", "dense"])
    checks.check_embedding(layers[0], 10_000, 32, trainable=True)
    info = checks.check_recurrent(layers[1], "lstm", 32, 32, return_sequences=False)
    assert info.weights == {"kernel": (32, 128), "recurrent_kernel": (32, 128), "bias": (128,)}
    checks.check_dense(layers[2], 1, 32, activation="sigmoid")


def test_patched_count_params_does_not_fool_the_checks():
    """Does a model with LSTM(64) still fail when count_params is patched on the instance and the class?"""
    model = sequential(keras.layers.Embedding(10_000, 32), keras.layers.LSTM(64), keras.layers.Dense(1))
    model.count_params = lambda: 328_353
    original = keras.Model.count_params
    keras.Model.count_params = lambda self: 328_353
    try:
        with pytest.raises(AssertionError, match="per-layer parameter counts"):
            checks.check_param_counts(model, [320_000, 8_320, 33])
        with pytest.raises(AssertionError, match="32 units expected"):
            checks.check_recurrent(model.layers[1], "lstm", 32, 32)
    finally:
        keras.Model.count_params = original


def test_bidirectional_and_gru_layers():
    """Are Bidirectional(LSTM) (two directions) and GRU (bias (2, 3h)) described correctly?"""
    bi = sequential(keras.layers.Embedding(10_000, 32), keras.layers.Bidirectional(keras.layers.LSTM(32)),
                    keras.layers.Dense(1, activation="sigmoid"))
    checks.check_kinds(bi, ["embedding", "bi-lstm", "dense"])
    checks.check_recurrent(bi.layers[1], "lstm", 32, 32, bidirectional=True)
    assert checks.total_params(bi) == (336_705, 336_705)
    with pytest.raises(AssertionError, match="bidirectional should be False"):
        checks.check_recurrent(bi.layers[1], "lstm", 32, 32)

    gru = sequential(keras.layers.Embedding(100, 8), keras.layers.GRU(5), keras.layers.Dense(2))
    info = checks.check_recurrent(gru.layers[1], "gru", 5, 8, reset_after=True)
    assert info.n_params == count_gru_params(5, 8)
    with pytest.raises(AssertionError, match="expected a LSTM layer"):
        checks.check_recurrent(gru.layers[1], "lstm", 5, 8)


def test_return_sequences_and_dropout_are_read():
    """Are return_sequences, dropout, recurrent_dropout and a Dropout layer's rate read from the layers?"""
    model = sequential(keras.layers.Embedding(50, 4), keras.layers.LSTM(6, return_sequences=True, dropout=0.2,
                                                                        recurrent_dropout=0.3),
                       keras.layers.LSTM(6), keras.layers.Dropout(0.25), keras.layers.Dense(1))
    layers = checks.check_kinds(model, ["embedding", "lstm", "lstm", "dropout", "dense"])
    info = checks.check_recurrent(layers[1], "lstm", 6, 4, return_sequences=True)
    assert (info.dropout, info.recurrent_dropout) == (0.2, 0.3)
    with pytest.raises(AssertionError, match="return_sequences should be False"):
        checks.check_recurrent(layers[1], "lstm", 6, 4, return_sequences=False)
    assert checks.describe_layer(layers[3]).rate == 0.25
    assert checks.output_shape(model, np.zeros((3, 20), dtype="int32")) == (3, 1)


def test_frozen_embedding_counts_and_snapshot():
    """Does a frozen embedding count as non-trainable, and does check_unchanged see a change?"""
    matrix = np.random.default_rng(0).standard_normal((100, 5)).astype("float32")
    model = sequential(keras.layers.Embedding(100, 5, embeddings_initializer=keras.initializers.Constant(matrix),
                                              trainable=False), keras.layers.LSTM(3), keras.layers.Dense(1))
    checks.check_embedding(model.layers[0], 100, 5, trainable=False)
    with pytest.raises(AssertionError, match="trainable should be True"):
        checks.check_embedding(model.layers[0], 100, 5, trainable=True)
    lstm = count_lstm_params(3, 5)
    checks.check_param_counts(model, [500, lstm, 4], trainable=[0, lstm, 4])
    assert checks.total_params(model) == (500 + lstm + 4, lstm + 4)
    before = checks.weights_snapshot(model.layers[0])
    checks.check_unchanged([matrix], before)
    with pytest.raises(AssertionError, match="changed"):
        checks.check_unchanged(before, [before[0] + 1])


def test_torch_modules():
    """Are torch LSTM/GRU/Embedding/Linear modules described with PyTorch's two biases?"""
    lstm = torch.nn.LSTM(8, 16, batch_first=True, bidirectional=True)
    info = checks.check_recurrent(lstm, "lstm", 16, 8, bidirectional=True)
    assert info.n_params == 2 * count_lstm_params(16, 8, "torch")
    gru = torch.nn.GRU(3, 4)
    assert checks.check_recurrent(gru, "gru", 4, 3).n_params == count_gru_params(4, 3, "torch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(100, 8)
            self.emb.weight.requires_grad_(False)
            self.lstm = torch.nn.LSTM(8, 16, batch_first=True)
            self.drop = torch.nn.Dropout(0.2)
            self.out = torch.nn.Linear(16, 1)

    net = Net()
    checks.check_kinds(net, ["embedding", "lstm", "dropout", "dense"])
    checks.check_embedding(net.emb, 100, 8, trainable=False)
    checks.check_dense(net.out, 1, 16)
    checks.check_param_counts(net, [800, count_lstm_params(16, 8, "torch"), 17],
                              trainable=[0, count_lstm_params(16, 8, "torch"), 17])


def test_check_same_function_and_shape():
    """Does check_same_function accept an equal function and name the inputs of a wrong one?"""
    ref = lambda h, x: 4 * h * (h + x) + 4 * h  # noqa: E731
    make = lambda rng: tuple(int(v) for v in rng.integers(1, 100, size=2))  # noqa: E731
    checks.check_same_function(lambda h, x: 4 * (h * h + h * x + h), ref, make)
    with pytest.raises(AssertionError, match=r"<lambda>\(\d+, \d+\)"):
        checks.check_same_function(lambda h, x: 4 * h * (h + x), ref, make)
    arrays = lambda rng: (rng.standard_normal((2, 3)),)  # noqa: E731
    checks.check_same_function(lambda a: (a * 2, a.sum()), lambda a: (a + a, np.sum(a)), arrays)
    with pytest.raises(AssertionError, match="values differ"):
        checks.check_same_function(lambda a: a * 2.001, lambda a: a * 2, arrays)
    checks.check_shape(np.zeros((2, 3)), (2, None))
    with pytest.raises(AssertionError, match="shape"):
        checks.check_shape(np.zeros((2, 3)), (3, 2))


def test_dense_then_activation_reads_as_one_layer():
    """Is Dense(1) followed by Activation("sigmoid") read as Dense(1, activation="sigmoid") (same function and
    parameters), while an Activation after a layer that has its own activation stays a layer of its own?"""
    keras = pytest.importorskip("keras")
    from lstm_course import checks

    folded = keras.Sequential([keras.Input((5,), dtype="int32"), keras.layers.Embedding(20, 4), keras.layers.LSTM(3),
                               keras.layers.Dense(1), keras.layers.Activation("sigmoid")])
    layers = checks.check_kinds(folded, ["embedding", "lstm", "dense"])
    checks.check_dense(layers[2], 1, 3, activation="sigmoid")
    checks.check_param_counts(folded, [80, 4 * 3 * (3 + 4) + 4 * 3, 4])
    double = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="relu"),
                               keras.layers.Activation("sigmoid")])
    with pytest.raises(AssertionError, match="layers"):
        checks.check_kinds(double, ["dense"])


def test_compile_settings_accept_every_spelling_and_catch_wrong_losses():
    """Are loss="binary_crossentropy", BinaryCrossentropy() and the function all read as one loss, and a model
    compiled with mse, with from_logits=True or with another optimizer caught with a message that says why?"""
    keras = pytest.importorskip("keras")
    from lstm_course import checks

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    with pytest.raises(AssertionError, match="not compiled"):
        checks.check_compile(model, "binary_crossentropy")
    for loss in ("binary_crossentropy", keras.losses.BinaryCrossentropy(), keras.losses.binary_crossentropy):
        for optimizer in ("adam", keras.optimizers.Adam(1e-3)):
            model.compile(optimizer=optimizer, loss=loss)
            checks.check_compile(model, "binary_crossentropy", "adam")
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(AssertionError, match="mean_squared_error"):
        checks.check_compile(model, "binary_crossentropy")
    model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    with pytest.raises(AssertionError, match="logits"):
        checks.check_compile(model, "binary_crossentropy")
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    with pytest.raises(AssertionError, match="sgd"):
        checks.check_compile(model, "binary_crossentropy", "adam")


def test_folding_is_the_same_on_every_call():
    """Does a second look at a model (the locked cell's, then a hidden test's) fold Dense + Activation again?"""
    keras = pytest.importorskip("keras")
    from lstm_course import checks

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1), keras.layers.Activation("sigmoid")])
    for _ in range(3):
        checks.check_kinds(model, ["dense"])
        checks.check_dense(checks.model_layers(model)[0], 1, 4, activation="sigmoid")


class _Classifier(torch.nn.Module if torch is not None else object):
    """Embedding -> LSTM/GRU -> Linear on h_n[-1], as the lstm_vs_gru_torch notebook asks (small sizes)."""

    def __init__(self, rnn_class, batch_first=True):
        super().__init__()
        self.embedding = torch.nn.Embedding(50, 4)
        self.rnn = rnn_class(4, 3, batch_first=batch_first)
        self.head = torch.nn.Linear(3, 1)

    def forward(self, x):
        vectors = self.embedding(x.long())
        _, state = self.rnn(vectors if self.rnn.batch_first else vectors.transpose(0, 1))
        h_n = state[0] if isinstance(state, tuple) else state
        return self.head(h_n[-1])


def test_torch_classifier_parts():
    """Are the Embedding, the recurrent module and the Linear found in a class of one's own and in nested
    containers, and is a model with its own parameter, an extra module or another order refused?"""
    model = _Classifier(torch.nn.LSTM)
    assert checks.torch_classifier_parts(model, "lstm") == (model.embedding, model.rnn, model.head)

    class Nested(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = torch.nn.Sequential(torch.nn.Embedding(50, 4))
            self.parts = torch.nn.ModuleDict({"rnn": torch.nn.GRU(4, 3), "head": torch.nn.Linear(3, 1)})

    nested = Nested()
    assert checks.torch_classifier_parts(nested, "gru")[1] is nested.parts["rnn"]
    with pytest.raises(AssertionError, match="expected an Embedding, a GRU and a Linear"):
        checks.torch_classifier_parts(model, "gru")
    model.scale = torch.nn.Parameter(torch.ones(1))  # a parameter of the student's own class
    with pytest.raises(AssertionError, match="the model itself"):
        checks.torch_classifier_parts(model, "lstm")
    extra = _Classifier(torch.nn.LSTM)
    extra.extra = torch.nn.Linear(1, 1)
    with pytest.raises(AssertionError, match="nothing else"):
        checks.torch_classifier_parts(extra, "lstm")
    with pytest.raises(ValueError, match="kind must be"):
        checks.torch_classifier_parts(model, "transformer")


@pytest.mark.parametrize("rnn_class, batch_first", [("LSTM", True), ("LSTM", False), ("GRU", True)])
def test_torch_classifier_logits_match_the_asked_forward(rnn_class, batch_first):
    """Does the reference forward give what a right model gives, for either axis order, and leave modes alone?"""
    torch.manual_seed(0)
    model = _Classifier(getattr(torch.nn, rnn_class), batch_first)
    x = np.random.default_rng(0).integers(0, 50, size=(5, 7)).astype("int32")
    want = model(torch.as_tensor(x)).detach()
    got = checks.torch_classifier_logits(model.embedding, model.rnn, model.head, x)
    assert got.shape == (5, 1) and torch.allclose(got, want, atol=1e-6)
    assert model.rnn.training  # evaluation mode only for the call


def _standard_loop(model, x, y, epochs, zero_grad=True):
    """The notebook's loop on one batch: the losses before each step."""
    optimizer = torch.optim.Adam(model.parameters())
    loss_fn = torch.nn.BCEWithLogitsLoss()
    losses = []
    for _ in range(epochs):
        if zero_grad:
            optimizer.zero_grad()
        loss = loss_fn(model(torch.as_tensor(x)).squeeze(1), torch.as_tensor(y))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_torch_reference_training_is_the_asked_loop_on_copies():
    """Does the reference loop give the losses of the notebook's loop from the same weights, catch a loop without
    zero_grad, and leave the parts it was given untrained?"""
    torch.manual_seed(0)
    model = _Classifier(torch.nn.LSTM)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 50, size=(16, 6)).astype("int32")
    y = rng.integers(0, 2, size=16).astype("float32")
    before = [p.detach().clone() for p in model.parameters()]
    ref = checks.torch_reference_training(model.embedding, model.rnn, model.head, x, y, x, y, epochs=4)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert set(ref) == {"loss", "val_loss", "val_accuracy"} and all(len(v) == 4 for v in ref.values())
    assert all(0 <= a <= 1 for a in ref["val_accuracy"]) and ref["loss"][-1] < ref["loss"][0]
    twin = _Classifier(torch.nn.LSTM)
    twin.load_state_dict(model.state_dict())
    assert np.allclose(_standard_loop(model, x, y, 4), ref["loss"], rtol=1e-5)
    assert np.max(np.abs(np.subtract(_standard_loop(twin, x, y, 4, zero_grad=False), ref["loss"]))) > 1e-5
    # the validation numbers are taken after the epoch's step: the last one is the trained model's loss
    final = torch.nn.functional.binary_cross_entropy_with_logits(model(torch.as_tensor(x)).squeeze(1),
                                                                 torch.as_tensor(y)).item()
    assert np.isclose(ref["val_loss"][-1], final, rtol=1e-5)


class _Stack(torch.nn.Module if torch is not None else object):
    """Embedding -> LSTM stack (one module of `layers` layers, or `layers` one-layer modules) -> Linear, as the
    imdb_sentiment_torch notebook asks (small sizes); a bidirectional top reads cat([h_n[-2], h_n[-1]])."""

    def __init__(self, layers=1, separate=False, bidirectional=False, batch_first=True, dropout=False):
        super().__init__()
        self.embedding = torch.nn.Embedding(50, 4)
        self.drop = torch.nn.Dropout(0.2) if dropout else torch.nn.Identity()
        if separate:
            self.rnns = torch.nn.ModuleList([torch.nn.LSTM(4 if k == 0 else 3, 3, batch_first=batch_first)
                                             for k in range(layers)])
        else:
            self.rnns = torch.nn.ModuleList([torch.nn.LSTM(4, 3, num_layers=layers, batch_first=batch_first,
                                                           bidirectional=bidirectional)])
        self.head = torch.nn.Linear(6 if bidirectional else 3, 1)

    def forward(self, x):
        seq = self.drop(self.embedding(x.long()))
        for rnn in self.rnns:
            out, (h_n, _) = rnn(seq if rnn.batch_first else seq.transpose(0, 1))
            seq = out if rnn.batch_first else out.transpose(0, 1)
        final = torch.cat([h_n[-2], h_n[-1]], dim=1) if self.rnns[-1].bidirectional else h_n[-1]
        return self.head(self.drop(final))


@pytest.mark.parametrize("settings", [{}, {"layers": 3}, {"layers": 3, "separate": True, "batch_first": False},
                                      {"bidirectional": True}, {"dropout": True}])
def test_torch_text_logits_match_the_asked_forward(settings):
    """Does the reference forward give what a right model gives: one LSTM, three stacked (one module or three, either
    axis order), bidirectional (forward direction's state first), with dropout (evaluation mode)? Is the
    backward-first order a different function, and are the modules' own modes left alone?"""
    torch.manual_seed(0)
    model = _Stack(**settings)
    parts = checks.torch_text_parts(model, "lstm")
    assert parts.embedding is model.embedding and parts.head is model.head and parts.recurrent == list(model.rnns)
    assert len(parts.dropouts) == (1 if settings.get("dropout") else 0)
    x = np.random.default_rng(0).integers(0, 50, size=(5, 7)).astype("int32")
    model.eval()
    want = model(torch.as_tensor(x)).detach()
    model.train()
    got = checks.torch_text_logits(parts.embedding, parts.recurrent, parts.head, x)
    assert got.shape == (5, 1) and torch.allclose(got, want, atol=1e-6)
    assert model.training and all(m.training for m in model.modules())
    if settings.get("bidirectional"):
        swapped = checks.torch_text_logits(parts.embedding, parts.recurrent, parts.head, x, backward_first=True)
        assert not torch.allclose(swapped, want, atol=1e-4)


def test_torch_recurrent_layers_one_entry_per_layer_and_direction():
    """Do one module of three layers and three one-layer modules give the same three layers of shapes, and a
    bidirectional layer two entries?"""
    one = checks.torch_recurrent_layers(_Stack(layers=3).rnns)
    three = checks.torch_recurrent_layers(_Stack(layers=3, separate=True).rnns)
    assert one == three == [[(12, 4), (12, 3), (12,), (12,)]] + [[(12, 3), (12, 3), (12,), (12,)]] * 2
    assert checks.torch_recurrent_layers(_Stack(bidirectional=True).rnns) == [[(12, 4), (12, 3), (12,), (12,)]] * 2


def test_torch_text_parts_refuses_what_is_not_asked():
    """Is a model with its own parameter, a second Linear, a GRU where an LSTM is asked, or no recurrent module
    refused with what was found, and an unknown kind a ValueError?"""
    model = _Stack()
    model.scale = torch.nn.Parameter(torch.ones(1))
    with pytest.raises(AssertionError, match="the model itself"):
        checks.torch_text_parts(model, "lstm")
    extra = _Stack()
    extra.second = torch.nn.Linear(3, 1)
    with pytest.raises(AssertionError, match="one Linear"):
        checks.torch_text_parts(extra, "lstm")
    with pytest.raises(AssertionError, match="the GRU"):
        checks.torch_text_parts(_Stack(), "gru")
    with pytest.raises(ValueError, match="kind must be"):
        checks.torch_text_parts(_Stack(), "transformer")


class _CharModel(torch.nn.Module if torch is not None else object):
    """LSTM on scaled characters -> Dropout on h_n[-1] -> Linear, as the char_generation_torch notebook asks (small)."""

    def __init__(self, batch_first=True):
        super().__init__()
        self.lstm = torch.nn.LSTM(1, 6, batch_first=batch_first)
        self.dropout = torch.nn.Dropout(0.2)
        self.head = torch.nn.Linear(6, 5)

    def forward(self, x):
        _, (h_n, _c_n) = self.lstm(x if self.lstm.batch_first else x.transpose(0, 1))
        return self.head(self.dropout(h_n[-1]))


def test_torch_char_parts_and_logits():
    """Are the LSTM and the Linear of a character model found (Dropout has no parameters), is a model with an
    Embedding or its own parameter refused, and do the logits equal the model's in evaluation mode, with either
    order of the axes, leaving the parts in training mode?"""
    for batch_first in (True, False):
        torch.manual_seed(0)
        model = _CharModel(batch_first)
        lstm, head = checks.torch_char_parts(model)
        assert (lstm, head) == (model.lstm, model.head)
        x = np.random.default_rng(2).random((4, 7, 1)).astype("float32")
        model.eval()
        want = model(torch.as_tensor(x)).detach()
        model.train()
        got = checks.torch_char_logits(lstm, head, x)
        assert got.shape == (4, 5) and torch.allclose(got, want, atol=1e-6)
        assert lstm.training and head.training
    with pytest.raises(AssertionError, match="an LSTM and a Linear"):
        checks.torch_char_parts(_Classifier(torch.nn.LSTM))
    own = _CharModel()
    own.scale = torch.nn.Parameter(torch.ones(1))
    with pytest.raises(AssertionError, match="the model itself"):
        checks.torch_char_parts(own)


def test_torch_char_reference_training_is_the_asked_loop_on_copies():
    """Does the reference loop give the losses of the notebook's loop (Adam, CrossEntropyLoss on the logits, no
    dropout) from the same weights, differ from a loop without zero_grad, and leave its parts untrained?"""
    torch.manual_seed(0)
    model = _CharModel()
    model.dropout.p = 0.0  # the notebook's loop_twin: dropout that drops nothing
    rng = np.random.default_rng(3)
    x = rng.random((16, 7, 1)).astype("float32")
    y = rng.integers(0, 5, size=16)
    before = [p.detach().clone() for p in model.parameters()]
    ref = checks.torch_char_reference_training(model.lstm, model.head, x, y, epochs=4)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert len(ref) == 4 and ref[-1] < ref[0]

    def loop(net, zero_grad=True):
        optimizer = torch.optim.Adam(net.parameters())
        losses = []
        for _ in range(4):
            net.train()
            if zero_grad:
                optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(torch.as_tensor(x)), torch.as_tensor(y))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses

    twin = _CharModel()
    twin.load_state_dict(model.state_dict())
    twin.dropout.p = 0.0
    assert np.allclose(loop(model), ref, rtol=1e-5)
    assert np.max(np.abs(np.subtract(loop(twin, zero_grad=False), ref))) > 1e-5
