"""Catalogue of lstm_vs_gru submissions (9 autograded points: lstm_params 2, gru_params 2, model_layers 2,
model_params 2, trained 1).

A wrong formula costs its own test only (7). A wrong layer that changes the weights costs model_layers and
model_params (5); one that keeps every weight (a setting, an extra weightless layer, the output's shape, the
compile settings, a model without keras.Input) costs model_layers only (7). Training settings cost `trained` (8).
A model that Keras cannot fit on the (batch,) labels (Dense(2, softmax), return_sequences=True) or that was never
compiled also loses `trained` (4, 6, 6).

Decisions: a float such as 8320.0 is wrong (the notebook asks for an int; a NumPy integer is accepted); the
formulas are only ever called with ints (an argument crosses to the student's kernel as a plain int anyway, so a
test with NumPy integer arguments would test nothing in the grader); GRU(reset_after=False), dropout, another
activation or go_backwards in a model are wrong ("defaults otherwise"); a model that does not start with
keras.Input is wrong (the notebook asks for it and the visible test says what to do), Keras 2's input_shape=
on the first layer is right (Keras then builds the model with its input at once); metrics=["acc"] or
BinaryAccuracy() are right (the history records a validation accuracy), no accuracy metric is wrong.
"""

from make_submissions import Crafted, Part

FORMULAS = '''\
def lstm_params(h, x):
    """Parameters of keras.layers.LSTM(h) on inputs of size x."""
{lstm}


def gru_params(h, x, reset_after=True):
    """Parameters of keras.layers.GRU(h, reset_after=reset_after) on inputs of size x."""
{gru}
'''

MODELS = '''\
def build_lstm_model():
    """Embedding -> LSTM -> Dense(1, sigmoid), compiled."""
{lstm}


def build_gru_model():
    """Embedding -> GRU -> Dense(1, sigmoid), compiled."""
{gru}
'''


def models(body: str, lstm: str = "LSTM", gru: str = "GRU") -> str:
    """The models cell with the same body in both builders, <RNN> replaced by the recurrent layer's class."""
    return MODELS.format(lstm=body.replace("<RNN>", lstm), gru=body.replace("<RNN>", gru))


SEQUENTIAL = '''\
    model = keras.Sequential([
        keras.Input(shape=(SEQ_LEN,), dtype="int32"),
        keras.layers.Embedding(VOCAB, EMBED_DIM),
        keras.layers.<RNN>(UNITS),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model'''


def seq(old: str, new: str, lstm: str = "LSTM", gru: str = "GRU") -> str:
    """The reference Sequential builders (both) with one change."""
    assert SEQUENTIAL.count(old) == 1, old
    return models(SEQUENTIAL.replace(old, new), lstm, gru)


REF_LSTM = "return 4 * (h * x + h * h + h)"
REF_GRU_BIAS = "biases = 2 * h if reset_after else h"
REF_GRU = "return 3 * (h * x + h * h + biases)"


def wrong(student: str, why: str, expected: float, **kw) -> Crafted:
    return Crafted(student, why, expected=expected, **kw)


#: independent parts (tests/make_submissions.py packs one crafted submission of each into a graded notebook): the
#: formulas are plain functions no model uses; the models' tests read the built and trained models only
PARTS = [Part(("formulas",), ("test_lstm_params", "test_gru_params")),
         Part(("models",), ("test_model_layers", "test_model_params", "test_trained"))]

CATALOGUE = [
    # ---------------------------------------------------------------- wrong: formulas (each costs its test: 7)
    wrong("formula_no_bias", "lstm_params forgets the 4h biases", 7,
          edits={"formulas": [(REF_LSTM, "return 4 * (h * x + h * h)")]}),
    wrong("lstm_pytorch_biases", "lstm_params counts 8h biases (PyTorch's bias_ih + bias_hh)", 7,
          edits={"formulas": [(REF_LSTM, "return 4 * (h * x + h * h + 2 * h)")]}),
    wrong("lstm_three_gates", "lstm_params with 3 affine maps (the GRU's count)", 7,
          edits={"formulas": [(REF_LSTM, "return 3 * (h * x + h * h + h)")]}),
    wrong("lstm_one_bias", "lstm_params adds one bias vector instead of one per gate", 7,
          edits={"formulas": [(REF_LSTM, "return 4 * h * (h + x) + h")]}),
    wrong("lstm_swapped_sizes", "lstm_params: x*x where h*h belongs (right only when h == x)", 7,
          edits={"formulas": [(REF_LSTM, "return 4 * (h * x + x * x + h)")]}),
    wrong("lstm_assumes_h_eq_x", "lstm_params hard-codes h == x: 4*(2*h*h + h)", 7,
          edits={"formulas": [(REF_LSTM, "return 4 * (2 * h * h + h)")]}),
    wrong("lstm_returns_visible_value", "lstm_params returns the visible test's value", 7,
          edits={"formulas": [(REF_LSTM, "return 8_320")]}),
    wrong("lstm_float", "lstm_params returns a float (8320.0): the notebook asks for an int", 7,
          edits={"formulas": [(REF_LSTM, "return 4 * h * (h + x) + 4.0 * h")]}),
    wrong("gru_no_second_bias", "gru_params ignores reset_after's second bias (3h biases always)", 7,
          edits={"formulas": [(REF_GRU_BIAS, "biases = h")]}),
    wrong("gru_reset_after_ignored", "gru_params always counts 6h biases (reset_after=False not handled)", 7,
          edits={"formulas": [(REF_GRU_BIAS, "biases = 2 * h")]}),
    wrong("gru_reset_after_inverted", "gru_params: the two reset_after cases swapped", 7,
          edits={"formulas": [(REF_GRU_BIAS, "biases = h if reset_after else 2 * h")]}),
    wrong("gru_default_false", "gru_params' default is reset_after=False (Keras 2's default)", 7,
          edits={"formulas": [("def gru_params(h, x, reset_after=True):", "def gru_params(h, x, reset_after=False):")]}),
    wrong("gru_returns_visible_value", "gru_params returns 6,336 whatever it is asked", 7,
          edits={"formulas": [(REF_GRU, "return 6_336")]}),
    wrong("gru_swapped_sizes", "gru_params: x*x where h*h belongs", 7,
          edits={"formulas": [(REF_GRU, "return 3 * (h * x + x * x + biases)")]}),
    wrong("gru_true_division", "gru_params as 3/4 of the LSTM's with / (a float)", 7,
          cells={"formulas": FORMULAS.format(
              lstm="    return 4 * (h * x + h * h + h)",
              gru="    return lstm_params(h, x) * 3 / 4 + (3 * h if reset_after else 0)")}),
    # ---------------------------------------------------------------- wrong: layers that change the weights (5)
    wrong("gru_for_lstm", "a GRU where the LSTM is asked", 5,
          edits={"models": [("keras.layers.LSTM(UNITS)", "keras.layers.GRU(UNITS)")]}),
    wrong("lstm_for_gru", "copy-paste: build_gru_model builds an LSTM", 5,
          edits={"models": [("keras.layers.GRU(UNITS)", "keras.layers.LSTM(UNITS)")]}),
    wrong("gru_reset_after_false", "GRU(reset_after=False) (the notebook says defaults)", 5,
          edits={"models": [("keras.layers.GRU(UNITS)", "keras.layers.GRU(UNITS, reset_after=False)")]}),
    wrong("lstm_64_units", "LSTM(64) instead of UNITS", 5,
          edits={"models": [("keras.layers.LSTM(UNITS)", "keras.layers.LSTM(64)")]}),
    wrong("embedding_64", "Embedding vectors of size 64 (in both models)", 5,
          cells={"models": seq("keras.layers.Embedding(VOCAB, EMBED_DIM)", "keras.layers.Embedding(VOCAB, 64)")}),
    wrong("embedding_vocab_plus_one", "Embedding(VOCAB + 1, ...) 'for the padding'", 5,
          cells={"models": seq("keras.layers.Embedding(VOCAB, EMBED_DIM)",
                               "keras.layers.Embedding(VOCAB + 1, EMBED_DIM)")}),
    wrong("no_embedding", "the CS109B bug: raw word indices into the recurrent layer, no Embedding", 5,
          cells={"models": seq('keras.Input(shape=(SEQ_LEN,), dtype="int32"),\n        '
                               'keras.layers.Embedding(VOCAB, EMBED_DIM),',
                               'keras.Input(shape=(SEQ_LEN, 1)),')}),
    wrong("dense_two_softmax", "Dense(2, softmax) as for two classes (fit then fails on the (batch,) labels)", 4,
          cells={"models": seq('keras.layers.Dense(1, activation="sigmoid")',
                               'keras.layers.Dense(2, activation="softmax")')}),
    wrong("frozen_embedding", "Embedding(trainable=False)", 5,
          cells={"models": seq("keras.layers.Embedding(VOCAB, EMBED_DIM)",
                               "keras.layers.Embedding(VOCAB, EMBED_DIM, trainable=False)")}),
    wrong("bidirectional", "Bidirectional(LSTM) and Bidirectional(GRU)", 5,
          cells={"models": seq("keras.layers.<RNN>(UNITS)", "keras.layers.Bidirectional(keras.layers.<RNN>(UNITS))")}),
    wrong("simple_rnn_for_gru", "SimpleRNN in build_gru_model", 5,
          edits={"models": [("keras.layers.GRU(UNITS)", "keras.layers.SimpleRNN(UNITS)")]}),
    # ---------------------------------------------------------------- wrong: same weights, other model (7)
    wrong("dense_no_sigmoid", "Dense(1) without the sigmoid", 7,
          cells={"models": seq('keras.layers.Dense(1, activation="sigmoid")', "keras.layers.Dense(1)")}),
    wrong("return_sequences", "return_sequences=True: one output per step (batch, T, 1); fit then fails", 6,
          cells={"models": seq("keras.layers.<RNN>(UNITS)", "keras.layers.<RNN>(UNITS, return_sequences=True)")}),
    wrong("pooled_states", "return_sequences=True + GlobalAveragePooling1D instead of the last state", 7,
          cells={"models": seq("keras.layers.<RNN>(UNITS),",
                               "keras.layers.<RNN>(UNITS, return_sequences=True),\n"
                               "        keras.layers.GlobalAveragePooling1D(),")}),
    wrong("output_flattened", "a Reshape(()) after the Dense: outputs of shape (batch,)", 7,
          cells={"models": seq('keras.layers.Dense(1, activation="sigmoid"),',
                               'keras.layers.Dense(1, activation="sigmoid"),\n        keras.layers.Reshape(()),')}),
    wrong("extra_dropout", "a Dropout layer before the Dense (the notebook lists the layers)", 7,
          cells={"models": seq("keras.layers.<RNN>(UNITS),", "keras.layers.<RNN>(UNITS),\n"
                               "        keras.layers.Dropout(0.2),")}),
    wrong("recurrent_dropout", "LSTM(UNITS, dropout=0.2): not the defaults", 7,
          edits={"models": [("keras.layers.LSTM(UNITS)", "keras.layers.LSTM(UNITS, dropout=0.2)")]}),
    wrong("lstm_relu", "LSTM(UNITS, activation='relu'): not the defaults", 7,
          edits={"models": [("keras.layers.LSTM(UNITS)", "keras.layers.LSTM(UNITS, activation=\"relu\")")]}),
    wrong("gru_go_backwards", "GRU(go_backwards=True): reads the review from its end to its padding", 7,
          edits={"models": [("keras.layers.GRU(UNITS)", "keras.layers.GRU(UNITS, go_backwards=True)")]}),
    wrong("no_keras_input", "the slides' Keras 2 idiom: no keras.Input (weights created at fit)", 7,
          cells={"models": seq('keras.Input(shape=(SEQ_LEN,), dtype="int32"),\n        ', "")}),
    wrong("loss_mse", 'loss="mse"', 7,
          cells={"models": seq('loss="binary_crossentropy"', 'loss="mse"')}),
    wrong("from_logits", "BinaryCrossentropy(from_logits=True) on a sigmoid output", 7,
          cells={"models": seq('loss="binary_crossentropy"', "loss=keras.losses.BinaryCrossentropy(from_logits=True)")}),
    wrong("optimizer_sgd", 'optimizer="sgd"', 7,
          cells={"models": seq('optimizer="adam"', 'optimizer="sgd"')}),
    wrong("gru_loss_mse_only", 'copy-paste slip: only build_gru_model compiles with loss="mse"', 7,
          cells={"models": MODELS.format(lstm=SEQUENTIAL.replace("<RNN>", "LSTM"),
                                         gru=SEQUENTIAL.replace("<RNN>", "GRU").replace(
                                             'loss="binary_crossentropy"', 'loss="mean_squared_error"'))}),
    # ---------------------------------------------------------------- wrong: training (compile forgotten: 6)
    wrong("not_compiled", "model.compile forgotten: the model cannot be trained", 6,
          cells={"models": seq('    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])\n',
                               "")}),
    wrong("no_accuracy_metric", "compiled without metrics: no validation accuracy to compare", 8,
          cells={"models": seq(', metrics=["accuracy"]', "")}),
    wrong("epochs_shortcut", "EPOCHS = 1 set in the answer cell to save time", 8,
          edits={"models": [("    ### END SOLUTION\n\n\ndef build_gru_model", "    ### END SOLUTION\n\n\nEPOCHS = 1\n\n\n"
                             "def build_gru_model")]}),

    # ---------------------------------------------------------------- right: formulas
    Crafted("formulas_factored", "4*h*(h+x+1) and 3*(h*(h+x) + (2 or 1)*h)", expected=9,
            cells={"formulas": FORMULAS.format(
                lstm="    return 4 * h * (h + x + 1)",
                gru="    return 3 * (h * (h + x) + (2 if reset_after else 1) * h)")}),
    Crafted("formulas_int_casts", "int() around every count, bias count from a bool", expected=9,
            cells={"formulas": FORMULAS.format(
                lstm="    gates = 4\n    return int(gates * (int(x) * int(h) + int(h) ** 2 + int(h)))",
                gru="    return int(3 * (x * h + h * h + h * (1 + int(bool(reset_after)))))")}),
    Crafted("formulas_numpy_shapes", "sums of np.prod of the weight shapes (NumPy integers)", expected=9,
            cells={"formulas": FORMULAS.format(
                lstm="    shapes = [(x, 4 * h), (h, 4 * h), (4 * h,)]\n    return sum(np.prod(s) for s in shapes)",
                gru="    bias = (2, 3 * h) if reset_after else (3 * h,)\n"
                    "    return np.sum([np.prod(s) for s in [(x, 3 * h), (h, 3 * h), bias]])")}),
    Crafted("formulas_numpy_ints", "computes with np.int64 and returns a NumPy integer", expected=9,
            cells={"formulas": FORMULAS.format(
                lstm="    h, x = np.int64(h), np.int64(x)\n    return 4 * (h * x + h * h + h)",
                gru="    h, x = np.int64(h), np.int64(x)\n    return 3 * (h * x + h * h) + (6 if reset_after else 3) * h")}),
    Crafted("formulas_loop_and_floor_division", "a loop over the gates; the GRU as 3/4 of the LSTM with //",
            expected=9, cells={"formulas": FORMULAS.format(
                lstm="    total = 0\n    for gate in ['input', 'forget', 'candidate', 'output']:\n"
                     "        total += x * h + h * h + h\n    return total",
                gru="    return lstm_params(h, x) * 3 // 4 + (3 * h if reset_after else 0)")}),
    # ---------------------------------------------------------------- right: models in other styles
    Crafted("models_add", "Sequential() then .add()", expected=9, cells={"models": models('''\
    model = keras.Sequential()
    model.add(keras.Input(shape=(SEQ_LEN,), dtype="int32"))
    model.add(keras.layers.Embedding(VOCAB, EMBED_DIM))
    model.add(keras.layers.<RNN>(UNITS))
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model''')}),
    Crafted("models_functional", "the functional API keras.Model(inputs, outputs)", expected=9,
            cells={"models": models('''\
    inputs = keras.Input(shape=(SEQ_LEN,), dtype="int32")
    vectors = keras.layers.Embedding(VOCAB, EMBED_DIM)(inputs)  # (batch, SEQ_LEN, EMBED_DIM)
    h_T = keras.layers.<RNN>(UNITS)(vectors)  # (batch, UNITS)
    outputs = keras.layers.Dense(1, activation="sigmoid")(h_T)  # (batch, 1)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model''')}),
    Crafted("models_dense_activation", "Dense(1) followed by Activation('sigmoid')", expected=9,
            cells={"models": seq('keras.layers.Dense(1, activation="sigmoid"),',
                                 'keras.layers.Dense(1),\n        keras.layers.Activation("sigmoid"),')}),
    Crafted("models_objects", "loss, optimizer and metric objects", expected=9,
            cells={"models": seq('model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])',
                                 "model.compile(optimizer=keras.optimizers.Adam(),\n"
                                 "                  loss=keras.losses.BinaryCrossentropy(),\n"
                                 "                  metrics=[keras.metrics.BinaryAccuracy()])")}),
    Crafted("models_keywords", "keyword arguments everywhere, an Adam object with its rate, metrics=['acc']", expected=9,
            cells={"models": models('''\
    model = keras.Sequential(layers=[
        keras.Input(shape=(SEQ_LEN,), dtype="int32"),
        keras.layers.Embedding(input_dim=VOCAB, output_dim=EMBED_DIM),
        keras.layers.<RNN>(units=UNITS),
        keras.layers.Dense(units=1, activation=keras.activations.sigmoid),
    ])
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  metrics=["acc"])
    return model''')}),
    Crafted("models_shared_helper", "both builders call one helper that takes the recurrent layer", expected=9,
            cells={"models": '''\
def _classifier(recurrent_layer):
    """Input -> Embedding -> the given recurrent layer -> Dense(1, sigmoid), compiled."""
    model = keras.Sequential([keras.Input(shape=(SEQ_LEN,), dtype="int32"),
                              keras.layers.Embedding(VOCAB, EMBED_DIM), recurrent_layer,
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def build_lstm_model():
    """Embedding -> LSTM -> Dense(1, sigmoid), compiled."""
    return _classifier(keras.layers.LSTM(UNITS))


def build_gru_model():
    """Embedding -> GRU -> Dense(1, sigmoid), compiled."""
    return _classifier(keras.layers.GRU(UNITS, reset_after=True))
'''}),
    Crafted("models_float_input_mask_zero", "keras.Input without dtype (float ids) and mask_zero=True", expected=9,
            cells={"models": seq('keras.Input(shape=(SEQ_LEN,), dtype="int32"),\n'
                                 '        keras.layers.Embedding(VOCAB, EMBED_DIM),',
                                 'keras.Input(shape=(SEQ_LEN,)),\n'
                                 '        keras.layers.Embedding(VOCAB, EMBED_DIM, mask_zero=True),')}),
    Crafted("models_keras2_input_shape", "Keras 2's input_shape= on the Embedding (Keras builds the model at once)",
            expected=9, cells={"models": seq('keras.Input(shape=(SEQ_LEN,), dtype="int32"),\n'
                                             '        keras.layers.Embedding(VOCAB, EMBED_DIM),',
                                             "keras.layers.Embedding(VOCAB, EMBED_DIM, input_shape=(SEQ_LEN,)),")}),
]
