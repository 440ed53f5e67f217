"""Tests of lstm_course.imdb_models: shapes, parameter counts and frozen embeddings in Keras and PyTorch."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np
import pytest

from lstm_course import imdb_models as im
from lstm_course import params as P

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")

VOCAB, DIM, UNITS, STEPS = 50, 8, 4, 7


def _data(n: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(1, VOCAB, size=(n, STEPS)).astype("int32")
    x[: n // 2, :3] = 0  # some padding
    return x, rng.integers(0, 2, size=n).astype("float32")


@pytest.mark.parametrize("architecture", im.ARCHITECTURES)
def test_keras_output_shape_and_params(architecture):
    """Does the Keras model give one probability per review and as many parameters as lstm_course.params says?"""
    model = im.build_keras_classifier(architecture, VOCAB, DIM, UNITS, num_layers=3, seq_len=STEPS)
    x, _ = _data()
    assert model.predict(x, verbose=0).shape == (len(x), 1)
    expected = P.count_model_params(im.param_specs(architecture, VOCAB, DIM, UNITS, 3), framework="keras")
    assert model.count_params() == expected.total


@pytest.mark.parametrize("architecture", im.ARCHITECTURES)
def test_torch_output_shape_and_params(architecture):
    """Does the torch module give one logit per review and as many parameters as lstm_course.params says?"""
    model = im.build_torch_classifier(architecture, VOCAB, DIM, UNITS, num_layers=3)
    x, _ = _data()
    assert model(torch.as_tensor(x, dtype=torch.long)).shape == (len(x),)
    expected = P.count_model_params(im.param_specs(architecture, VOCAB, DIM, UNITS, 3), framework="torch")
    assert im.count_params(model) == (expected.total, expected.trainable)


def test_slides_model_has_328353_parameters():
    """Is the slides' Embedding(10000, 32) + LSTM(32) + Dense(1) model 328,353 parameters in Keras?"""
    model = im.build_keras_classifier("single", seq_len=500)
    assert model.count_params() == 328_353 == 10_000 * 32 + 4 * 32 * (32 + 32 + 1) + 33


def test_bidirectional_final_state_halves():
    """Is the torch bidirectional summary [forward state after the last step, backward state after the first]?"""
    torch.manual_seed(0)
    model = im.build_torch_classifier("bidirectional", VOCAB, DIM, UNITS)
    x = torch.as_tensor(_data()[0], dtype=torch.long)
    with torch.no_grad():
        output, _ = model.lstm(model.embedding(x))  # (batch, T, 2 * units)
        summary = model.final_state(x)
    assert summary.shape == (len(x), 2 * UNITS)
    torch.testing.assert_close(summary[:, :UNITS], output[:, -1, :UNITS])
    torch.testing.assert_close(summary[:, UNITS:], output[:, 0, UNITS:])


def test_packed_equals_unpadded():
    """Does packed=True give, for a post-padded review, the result of the review without its padding?"""
    torch.manual_seed(0)
    model = im.build_torch_classifier("single", VOCAB, DIM, UNITS, packed=True).eval()
    review = torch.tensor([[5, 6, 7, 8]])
    padded = torch.tensor([[5, 6, 7, 8, 0, 0, 0]])
    with torch.no_grad():
        torch.testing.assert_close(model(padded), model(review))


def test_frozen_embedding_keras_unchanged_after_training():
    """Does a frozen pretrained Keras embedding keep its values while the LSTM learns?"""
    keras.utils.set_random_seed(0)
    matrix = np.random.default_rng(1).normal(size=(VOCAB, DIM)).astype("float32")
    model = im.build_keras_classifier("single", VOCAB, DIM, UNITS, seq_len=STEPS, embedding_matrix=matrix,
                                      trainable_embedding=False)
    np.testing.assert_allclose(model.get_layer("embedding").get_weights()[0], matrix)
    lstm_before = model.get_layer("lstm").get_weights()[0].copy()
    x, y = _data()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    np.testing.assert_array_equal(model.get_layer("embedding").get_weights()[0], matrix)
    assert not np.allclose(model.get_layer("lstm").get_weights()[0], lstm_before)


def test_fine_tuned_embedding_keras_changes():
    """Does a trainable pretrained Keras embedding move away from its start values?"""
    keras.utils.set_random_seed(0)
    matrix = np.random.default_rng(1).normal(size=(VOCAB, DIM)).astype("float32")
    model = im.build_keras_classifier("single", VOCAB, DIM, UNITS, seq_len=STEPS, embedding_matrix=matrix)
    x, y = _data()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert not np.allclose(model.get_layer("embedding").get_weights()[0], matrix)


def test_frozen_embedding_torch_unchanged_after_training():
    """Does a frozen pretrained torch embedding keep its values while the LSTM learns?"""
    torch.manual_seed(0)
    matrix = np.random.default_rng(1).normal(size=(VOCAB, DIM)).astype("float32")
    model = im.build_torch_classifier("single", VOCAB, DIM, UNITS, embedding_matrix=matrix,
                                      trainable_embedding=False)
    lstm_before = model.lstm.weight_ih_l0.detach().clone()
    x, y = _data()
    result = im.train_and_evaluate(model, x, y, x, y, epochs=1, batch_size=8)
    np.testing.assert_array_equal(model.embedding.weight.detach().numpy(), matrix)
    assert not torch.allclose(model.lstm.weight_ih_l0, lstm_before)
    assert result.trainable_params == result.params - VOCAB * DIM


def test_fine_tuning_a_torch_embedding_leaves_the_callers_matrix_alone():
    """Does fine-tuning a pretrained torch embedding change the model's copy only, never the caller's array
    (a shared float32 buffer once carried every step back into the GloVe matrix of the next run)?"""
    torch.manual_seed(0)
    matrix = np.random.default_rng(1).normal(size=(VOCAB, DIM)).astype("float32")
    kept = matrix.copy()
    model = im.build_torch_classifier("single", VOCAB, DIM, UNITS, embedding_matrix=matrix,
                                      trainable_embedding=True)
    x, y = _data()
    im.train_and_evaluate(model, x, y, x, y, epochs=1, batch_size=8)
    assert not np.array_equal(model.embedding.weight.detach().numpy(), kept), "the embedding did not train"
    np.testing.assert_array_equal(matrix, kept)


def test_train_and_evaluate_result_fields():
    """Does train_and_evaluate report an accuracy in [0, 1], one history entry per epoch and a time?"""
    keras.utils.set_random_seed(0)
    model = im.build_keras_classifier("single", VOCAB, DIM, UNITS, seq_len=STEPS)
    x, y = _data()
    result = im.train_and_evaluate(model, x, y, x, y, epochs=2, batch_size=8, eval_every_epoch=True)
    assert 0.0 <= result.test_accuracy <= 1.0
    assert len(result.history["loss"]) == len(result.history["test_accuracy"]) == 2
    assert result.train_seconds > 0 and result.framework == "keras" and result.epochs == 2


@pytest.mark.parametrize("framework", ["keras", "torch"])
def test_on_epoch_end_sees_each_epoch_before_evaluation(framework):
    """Is on_epoch_end called once per epoch with the history so far, and can it add keys that are kept?"""
    keras.utils.set_random_seed(0)
    torch.manual_seed(0)
    if framework == "keras":
        model = im.build_keras_classifier("single", VOCAB, DIM, UNITS, seq_len=STEPS)
    else:
        model = im.build_torch_classifier("single", VOCAB, DIM, UNITS)
    x, y = _data()
    seen: list[tuple[int, int]] = []

    def record(history):
        seen.append((len(history["loss"]), len(history.get("test_accuracy", []))))
        history.setdefault("marks", []).append(len(history["loss"]))

    result = im.train_and_evaluate(model, x, y, x, y, epochs=2, batch_size=8, eval_every_epoch=True,
                                   on_epoch_end=record)
    assert seen == [(1, 0), (2, 1)]  # called after training an epoch, before that epoch's test evaluation
    assert result.history["marks"] == [1, 2]


def test_wrong_embedding_shape_is_an_error():
    """Is an embedding matrix of the wrong shape refused?"""
    with pytest.raises(ValueError, match="embedding_matrix"):
        im.build_torch_classifier("single", VOCAB, DIM, UNITS, embedding_matrix=np.zeros((VOCAB, DIM + 1)))


def test_to_post_padding_moves_padding_only():
    """Does to_post_padding keep the words in order and move the zeros to the end?"""
    x = np.array([[0, 0, 3, 4], [1, 2, 3, 4], [0, 0, 0, 0]], dtype="int32")
    np.testing.assert_array_equal(im.to_post_padding(x), [[3, 4, 0, 0], [1, 2, 3, 4], [0, 0, 0, 0]])


@pytest.mark.parametrize("architecture", im.ARCHITECTURES)
def test_simple_rnn_params_match_formula_in_both_frameworks(architecture):
    """Does cell="simple_rnn" build a SimpleRNN / nn.RNN model with as many parameters as lstm_course.params says?"""
    specs = im.param_specs(architecture, VOCAB, DIM, UNITS, 3, cell="simple_rnn")
    model = im.build_keras_classifier(architecture, VOCAB, DIM, UNITS, num_layers=3, seq_len=STEPS, cell="simple_rnn")
    recurrent = [getattr(layer, "forward_layer", layer) for layer in model.layers[1:-1]]  # between Embedding and Dense
    assert recurrent and all(isinstance(layer, keras.layers.SimpleRNN) for layer in recurrent)
    assert model.count_params() == P.count_model_params(specs, framework="keras").total
    module = im.build_torch_classifier(architecture, VOCAB, DIM, UNITS, num_layers=3, cell="simple_rnn")
    assert isinstance(module.rnn, torch.nn.RNN) and module.rnn.nonlinearity == "tanh"
    assert not hasattr(module, "lstm")
    assert im.count_params(module)[0] == P.count_model_params(specs, framework="torch").total
    x, _ = _data()
    assert model.predict(x, verbose=0).shape == (len(x), 1)
    assert module(torch.as_tensor(x, dtype=torch.long)).shape == (len(x),)


def test_slides_simple_rnn_is_a_quarter_of_the_lstm():
    """Is SimpleRNN(32) on 32 inputs 32*(32+32)+32 = 2,080 parameters in Keras, a quarter of LSTM(32)'s 8,320?"""
    rnn = im.build_keras_classifier("single", seq_len=500, cell="simple_rnn").get_layer("simple_rnn")
    lstm = im.build_keras_classifier("single", seq_len=500).get_layer("lstm")
    assert rnn.count_params() == 2_080 == 32 * (32 + 32) + 32
    assert lstm.count_params() == 8_320 == 4 * rnn.count_params()


def test_simple_rnn_final_state_is_last_output():
    """Is the torch SimpleRNN summary the last step of the RNN's output (one direction)?"""
    torch.manual_seed(0)
    model = im.build_torch_classifier("single", VOCAB, DIM, UNITS, cell="simple_rnn")
    x = torch.as_tensor(_data()[0], dtype=torch.long)
    with torch.no_grad():
        output, _ = model.rnn(model.embedding(x))  # (batch, T, units)
        torch.testing.assert_close(model.final_state(x), output[:, -1])


def test_unknown_cell_is_an_error():
    """Is a cell other than "lstm" and "simple_rnn" refused by both builders and by param_specs?"""
    for build in (im.build_keras_classifier, im.build_torch_classifier, im.param_specs):
        with pytest.raises(ValueError, match="cell"):
            build("single", cell="gru")
