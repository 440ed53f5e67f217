"""Catalogue of imdb_sentiment submissions (16 autograded points: pad_front 2, sequences 2, basic 3, dropout 1,
stacked 2, bidirectional 2, glove model 2, glove frozen 1, accuracy 1; the 4 written answers are graded by hand).

Wrong ones carry one realistic bug each and must lose points; right ones are other valid styles (Sequential
list or `.add()`, functional API, Dense + Activation, loss and optimizer objects, keyword arguments, a masked
embedding, other ways to load GloVe, other ways to pad) and must keep full marks.
"""

from make_submissions import Crafted, Part

BUILDERS = ("basic", "dropout", "stacked", "bidirectional", "glove_model")
SCRATCH = ("basic", "dropout", "stacked", "bidirectional")  # the four models with a trained-from-scratch embedding
COMPILE = 'model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])'
SIGMOID = 'keras.layers.Dense(1, activation="sigmoid"),'
GLOVE_EMBEDDING = ("keras.layers.Embedding(VOCAB, 50, embeddings_initializer=keras.initializers.Constant(matrix), "
                   "trainable=False),")

# The layers of each model between Input and Dense, as Python expressions (used by the rewritten builders).
MIDDLE = {
    "basic": ["keras.layers.Embedding(VOCAB, 32)", "keras.layers.LSTM(32)"],
    "dropout": ["keras.layers.Embedding(VOCAB, 32)", "keras.layers.LSTM(32, dropout=0.2, recurrent_dropout=0.2)"],
    "stacked": ["keras.layers.Embedding(VOCAB, 32)", "keras.layers.LSTM(32, return_sequences=True)",
                "keras.layers.LSTM(32, return_sequences=True)", "keras.layers.LSTM(32)"],
    "bidirectional": ["keras.layers.Embedding(VOCAB, 32)", "keras.layers.Bidirectional(keras.layers.LSTM(32))"],
    "glove_model": ["keras.layers.Embedding(VOCAB, 50, embeddings_initializer=keras.initializers.Constant(matrix), "
                    "trainable=False)", "keras.layers.LSTM(32)"],
}
HEADER = {
    "basic": "def build_basic_model():\n",
    "dropout": "def build_dropout_model():\n",
    "stacked": "def build_stacked_model():\n",
    "bidirectional": "def build_bidirectional_model():\n",
    "glove_model": "def build_glove_model(matrix):\n",
}


def _with_add(gid: str) -> str:
    """The builder written with Sequential().add(...)."""
    body = "    model = keras.Sequential()\n    model.add(keras.Input(shape=(SEQ_LEN,), dtype=\"int32\"))\n"
    body += "".join(f"    model.add({layer})\n" for layer in MIDDLE[gid])
    body += "    model.add(keras.layers.Dense(1, activation=\"sigmoid\"))\n"
    return HEADER[gid] + body + f"    {COMPILE}\n    return model\n"


def _functional(gid: str) -> str:
    """The builder written with the functional API: keras.Model(inputs, outputs)."""
    body = "    inputs = keras.Input(shape=(SEQ_LEN,), dtype=\"int32\")\n    x = inputs\n"
    body += "".join(f"    x = {layer}(x)\n" for layer in MIDDLE[gid])
    body += "    outputs = keras.layers.Dense(1, activation=\"sigmoid\")(x)\n"
    body += "    model = keras.Model(inputs, outputs)\n"
    return HEADER[gid] + body + f"    {COMPILE}\n    return model\n"


def _everywhere(old: str, new: str, gids=BUILDERS) -> dict:
    return {g: [(old, new)] for g in gids}


def _merge(*edit_sets: dict) -> dict:
    out: dict = {}
    for edits in edit_sets:
        for g, changes in edits.items():
            out.setdefault(g, []).extend(changes)
    return out


NO_INPUT = _everywhere('        keras.Input(shape=(SEQ_LEN,), dtype="int32"),\n', "")

PAD_KERAS = '''def pad_front(sequences, seq_len):
    """(n, seq_len) int32: the last seq_len indices of each sequence, padded with zeros at the front."""
    return keras.utils.pad_sequences(sequences, maxlen=seq_len, padding="pre", truncating="pre", dtype="int32")


x_train = pad_front(token_ids(train_texts), SEQ_LEN)
x_test = pad_front(token_ids(test_texts), SEQ_LEN)
'''

PAD_NUMPY = '''def pad_front(sequences, seq_len):
    """(n, seq_len) int32: the last seq_len indices of each sequence, padded with zeros at the front."""
    tails = [np.asarray(s, dtype=np.int32)[max(len(s) - seq_len, 0):] for s in sequences]
    lengths = np.array([len(t) for t in tails], dtype=np.int64)
    out = np.zeros((len(sequences), seq_len), dtype=np.int32)
    keep = np.arange(seq_len)[None, :] >= (seq_len - lengths)[:, None]  # (n, seq_len): where the words go
    if tails:
        out[keep] = np.concatenate(tails)
    return out


x_train = pad_front(token_ids(train_texts), SEQ_LEN)
x_test = pad_front(token_ids(test_texts), SEQ_LEN)
'''

PAD_LISTCOMP = '''def pad_front(sequences, seq_len):
    """(n, seq_len) int32: the last seq_len indices of each sequence, padded with zeros at the front."""
    tails = [list(s)[len(s) - min(len(s), seq_len):] for s in sequences]
    return np.array([[0] * (seq_len - len(t)) + t for t in tails], dtype=np.int32).reshape(len(sequences), seq_len)


x_train = pad_front(token_ids(train_texts), SEQ_LEN)
x_test = pad_front(token_ids(test_texts), SEQ_LEN)
'''

PAD_NEGATIVE_SLICE = '''def pad_front(sequences, seq_len):
    """(n, seq_len) int32: the last seq_len indices of each sequence, padded with zeros at the front."""
    out = np.zeros((len(sequences), seq_len), dtype=np.int32)
    for k, seq in enumerate(sequences):
        tail = list(seq)[-seq_len:]
        out[k, -len(tail):] = tail
    return out


x_train = pad_front(token_ids(train_texts), SEQ_LEN)
x_test = pad_front(token_ids(test_texts), SEQ_LEN)
'''

GLOVE_SET_WEIGHTS = '''def build_glove_model(matrix):
    """Embedding(VOCAB, 50) initialised with matrix and frozen -> LSTM(32) -> Dense(1, sigmoid), compiled."""
    embedding = keras.layers.Embedding(VOCAB, 50, trainable=False)
    model = keras.Sequential([
        keras.Input(shape=(SEQ_LEN,), dtype="int32"),
        embedding,
        keras.layers.LSTM(32),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    embedding.set_weights([matrix])  # the model is built (it has an Input), so the table exists
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model
'''

# A model that lies about itself: the real model has LSTM(64); its get_config/get_weights describe the reference.
LIAR_INSTANCE = '''def build_basic_model():
    """Embedding(VOCAB, 32) -> LSTM(32) -> Dense(1, sigmoid), compiled."""
    honest = keras.Sequential([keras.Input(shape=(SEQ_LEN,), dtype="int32"), keras.layers.Embedding(VOCAB, 32),
                               keras.layers.LSTM(32), keras.layers.Dense(1, activation="sigmoid")])
    model = keras.Sequential([keras.Input(shape=(SEQ_LEN,), dtype="int32"), keras.layers.Embedding(VOCAB, 32),
                              keras.layers.LSTM(64), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.get_config = honest.get_config
    model.get_weights = honest.get_weights
    return model
'''

LIAR_CLASS = '''def build_basic_model():
    """Embedding(VOCAB, 32) -> LSTM(32) -> Dense(1, sigmoid), compiled."""
    honest = keras.Sequential([keras.Input(shape=(SEQ_LEN,), dtype="int32"), keras.layers.Embedding(VOCAB, 32),
                               keras.layers.LSTM(32), keras.layers.Dense(1, activation="sigmoid")])
    model = keras.Sequential([keras.Input(shape=(SEQ_LEN,), dtype="int32"), keras.layers.Embedding(VOCAB, 32),
                              keras.layers.LSTM(64), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    real_config, real_weights = keras.Sequential.get_config, keras.Model.get_weights
    keras.Sequential.get_config = lambda self: real_config(honest if self is model else self)
    keras.Model.get_weights = lambda self: real_weights(honest if self is model else self)
    return model
'''

WRONG = [
    # ---- Part 1: padding (pad_front 2, sequences 2)
    Crafted("post_padding", "pads at the end and keeps the first SEQ_LEN words",
            {"pad_front": [("tail = list(seq)[-seq_len:] if seq_len > 0 else []", "tail = list(seq)[:seq_len]"),
                           ("out[k, seq_len - len(tail):] = tail", "out[k, :len(tail)] = tail")]}, expected=12),
    Crafted("truncate_front", "pads at the front but keeps the FIRST seq_len words of a long review",
            {"pad_front": [("tail = list(seq)[-seq_len:] if seq_len > 0 else []", "tail = list(seq)[:seq_len]")]},
            expected=12),
    Crafted("pad_off_by_one", "keeps only the last seq_len - 1 words (off by one), one zero too many in front",
            {"pad_front": [("tail = list(seq)[-seq_len:] if seq_len > 0 else []",
                            "tail = list(seq)[-(seq_len - 1):] if seq_len > 1 else []")]}, expected=12),
    Crafted("int64_dtype", "returns int64 (NumPy's default) instead of int32",
            {"pad_front": [("dtype=np.int32)", "dtype=np.int64)")]}, expected=12),
    Crafted("empty_sequence_crash", "the out[k, -len(tail):] idiom: an empty sequence fills the whole row (-0 == 0) "
            "and raises", cells={"pad_front": PAD_NEGATIVE_SLICE}, expected=14),
    Crafted("vectorizer_post", "x_train and x_test straight from the setup's vectorizer (end padding, int64)",
            {"pad_front": [("x_train = pad_front(token_ids(train_texts), SEQ_LEN)",
                            "x_train = keras.ops.convert_to_numpy(vectorizer(train_texts))"),
                           ("x_test = pad_front(token_ids(test_texts), SEQ_LEN)",
                            "x_test = keras.ops.convert_to_numpy(vectorizer(test_texts))")]}, expected=14),
    Crafted("x_test_from_train", "copy-paste: x_test built from the training reviews",
            {"pad_front": [("x_test = pad_front(token_ids(test_texts), SEQ_LEN)",
                            "x_test = pad_front(token_ids(train_texts), SEQ_LEN)")]}, expected=14),
    Crafted("seq_len_200", "x_train and x_test padded to 200 steps (lstm_vs_gru's length) instead of SEQ_LEN",
            {"pad_front": [("x_train = pad_front(token_ids(train_texts), SEQ_LEN)",
                            "x_train = pad_front(token_ids(train_texts), 200)"),
                           ("x_test = pad_front(token_ids(test_texts), SEQ_LEN)",
                            "x_test = pad_front(token_ids(test_texts), 200)")]}, expected=14),
    # ---- Part 2: the basic model (3) and what it predicts (1)
    Crafted("hidden_64", "LSTM(64) instead of LSTM(32) in the basic model",
            {"basic": [("keras.layers.LSTM(32)", "keras.layers.LSTM(64)")]}, expected=13),
    Crafted("embed_64", "Embedding(VOCAB, 64) in the basic model",
            {"basic": [("keras.layers.Embedding(VOCAB, 32)", "keras.layers.Embedding(VOCAB, 64)")]}, expected=13),
    Crafted("no_sigmoid", "Dense(1) without the sigmoid: the basic model outputs logits",
            {"basic": [(SIGMOID, "keras.layers.Dense(1),")]}, expected=12),
    Crafted("softmax_one_unit", "Dense(1, activation=\"softmax\"): always 1.0",
            {"basic": [(SIGMOID, 'keras.layers.Dense(1, activation="softmax"),')]}, expected=13),
    Crafted("dense_2_softmax", "two output units with softmax and sparse categorical cross-entropy",
            {"basic": [(SIGMOID, 'keras.layers.Dense(2, activation="softmax"),'),
                       ('loss="binary_crossentropy"', 'loss="sparse_categorical_crossentropy"')]}, expected=12),
    Crafted("loss_mse", "the basic model compiled with loss=\"mse\"",
            {"basic": [('loss="binary_crossentropy"', 'loss="mse"')]}, expected=13),
    Crafted("from_logits_sigmoid", "BinaryCrossentropy(from_logits=True) on a sigmoid output, in every builder",
            _everywhere('loss="binary_crossentropy"', "loss=keras.losses.BinaryCrossentropy(from_logits=True)"),
            expected=6),
    Crafted("sgd_glove", "the GloVe model compiled with optimizer=\"sgd\" where Adam is asked",
            {"glove_model": [('optimizer="adam"', 'optimizer="sgd"')]}, expected=14),
    Crafted("rmsprop_everywhere", "optimizer=\"rmsprop\" (the slides' optimizer) in every builder",
            _everywhere('optimizer="adam"', 'optimizer="rmsprop"'), expected=6),
    Crafted("count_params_patched", "LSTM(64) hidden behind a patched count_params (instance and class)",
            {"basic": [("keras.layers.LSTM(32)", "keras.layers.LSTM(64)"),
                       ("    return model\n",
                        "    model.count_params = lambda: 328_353\n"
                        "    keras.Model.count_params = lambda self: 328_353\n"
                        "    return model\n")]}, expected=13,
            alone="patches keras.Model, which every model shares"),
    Crafted("lying_instance", "LSTM(64) whose get_config/get_weights (instance attributes) describe LSTM(32)",
            cells={"basic": LIAR_INSTANCE}, expected=13),
    Crafted("lying_class", "LSTM(64) behind patched keras.Model.get_config/get_weights that describe LSTM(32)",
            cells={"basic": LIAR_CLASS}, expected=13, alone="patches keras.Model, which every model shares"),
    Crafted("vocab_20000", "Embedding(20_000, 32) in the four trained-from-scratch models",
            {g: [("keras.layers.Embedding(VOCAB, 32)", "keras.layers.Embedding(20_000, 32)")] for g in SCRATCH},
            expected=8),
    Crafted("no_input", "no keras.Input anywhere (the slides' Keras 2 idiom, which the instructions exclude)",
            NO_INPUT, expected=10),
    # ---- Part 3: dropout (1)
    Crafted("dropout_only", "dropout=0.2 without recurrent_dropout",
            {"dropout": [("keras.layers.LSTM(32, dropout=0.2, recurrent_dropout=0.2)",
                          "keras.layers.LSTM(32, dropout=0.2)")]}, expected=15),
    Crafted("recurrent_dropout_only", "recurrent_dropout=0.2 without dropout",
            {"dropout": [("keras.layers.LSTM(32, dropout=0.2, recurrent_dropout=0.2)",
                          "keras.layers.LSTM(32, recurrent_dropout=0.2)")]}, expected=15),
    Crafted("dropout_layer", "a Dropout(0.2) layer before the LSTM instead of the LSTM's own arguments",
            {"dropout": [("keras.layers.LSTM(32, dropout=0.2, recurrent_dropout=0.2),",
                          "keras.layers.Dropout(0.2),\n        keras.layers.LSTM(32),")]}, expected=15),
    Crafted("recurrent_dropout_0_5", "dropout=0.2, recurrent_dropout=0.5 (a typo in one rate)",
            {"dropout": [("recurrent_dropout=0.2)", "recurrent_dropout=0.5)")]}, expected=15),
    # ---- Part 4: stacked (2)
    Crafted("stack_return_sequences", "the second stacked LSTM does not return its sequence (the build fails)",
            {"stacked": [("keras.layers.LSTM(32, return_sequences=True),\n        keras.layers.LSTM(32),",
                          "keras.layers.LSTM(32, return_sequences=False),\n        keras.layers.LSTM(32),")]},
            expected=14),
    Crafted("stack_all_sequences", "return_sequences=True on the last LSTM too (the output is a sequence)",
            {"stacked": [("keras.layers.LSTM(32),", "keras.layers.LSTM(32, return_sequences=True),")]},
            expected=14),
    Crafted("stack_two", "only two stacked LSTMs",
            {"stacked": [("        keras.layers.LSTM(32, return_sequences=True),\n"
                          "        keras.layers.LSTM(32, return_sequences=True),\n",
                          "        keras.layers.LSTM(32, return_sequences=True),\n")]}, expected=14),
    Crafted("stack_copy_paste", "copy-paste: build_stacked_model returns the basic model",
            cells={"stacked": "def build_stacked_model():\n    return build_basic_model()\n"}, expected=14),
    # ---- Part 5: bidirectional (2)
    Crafted("no_bidirectional", "a plain LSTM where Bidirectional(LSTM) is asked",
            {"bidirectional": [("keras.layers.Bidirectional(keras.layers.LSTM(32))", "keras.layers.LSTM(32)")]},
            expected=14),
    Crafted("bidi_sum", "Bidirectional(..., merge_mode=\"sum\"): 32 inputs to the Dense layer, not 64",
            {"bidirectional": [("keras.layers.Bidirectional(keras.layers.LSTM(32))",
                                'keras.layers.Bidirectional(keras.layers.LSTM(32), merge_mode="sum")')]},
            expected=14),
    Crafted("bidi_gru", "Bidirectional(GRU(32)) instead of Bidirectional(LSTM(32))",
            {"bidirectional": [("keras.layers.Bidirectional(keras.layers.LSTM(32))",
                                "keras.layers.Bidirectional(keras.layers.GRU(32))")]}, expected=14),
    # ---- Part 6: GloVe (2 + 1)
    Crafted("glove_trainable", "the GloVe embedding is left trainable",
            {"glove_model": [("trainable=False", "trainable=True")]}, expected=13),
    Crafted("glove_random_frozen", "a frozen embedding that was never given the matrix (a random table)",
            {"glove_model": [("embeddings_initializer=keras.initializers.Constant(matrix), ", "")]}, expected=14),
    Crafted("glove_dim_32", "Embedding(VOCAB, 32) for the 50-dimensional GloVe matrix (the build fails)",
            {"glove_model": [("keras.layers.Embedding(VOCAB, 50,", "keras.layers.Embedding(VOCAB, 32,")]},
            expected=13),
    Crafted("glove_transposed", "Embedding(50, VOCAB) holding the transposed matrix",
            {"glove_model": [("keras.layers.Embedding(VOCAB, 50, embeddings_initializer=keras.initializers."
                              "Constant(matrix),",
                              "keras.layers.Embedding(50, VOCAB, embeddings_initializer=keras.initializers."
                              "Constant(matrix.T),")]}, expected=13),
    Crafted("glove_global_random", "copy-paste: the GloVe builder returns a trainable 32-wide embedding model",
            cells={"glove_model": "def build_glove_model(matrix):\n    return build_basic_model()\n"}, expected=13),
]

RIGHT = [
    Crafted("style_add", "every builder with Sequential().add(...)",
            cells={g: _with_add(g) for g in BUILDERS}, expected=16),
    Crafted("style_functional", "every builder with the functional API keras.Model(inputs, outputs)",
            cells={g: _functional(g) for g in BUILDERS}, expected=16),
    Crafted("style_dense_activation", "Dense(1) followed by Activation(\"sigmoid\") in every builder",
            _everywhere(SIGMOID, 'keras.layers.Dense(1),\n        keras.layers.Activation("sigmoid"),'),
            expected=16),
    Crafted("style_loss_objects", "loss=keras.losses.BinaryCrossentropy(), optimizer=keras.optimizers.Adam(), "
            "metrics=[keras.metrics.BinaryAccuracy()]",
            _everywhere(COMPILE, "model.compile(optimizer=keras.optimizers.Adam(), "
                                 "loss=keras.losses.BinaryCrossentropy(), metrics=[keras.metrics.BinaryAccuracy()])"),
            expected=16),
    Crafted("style_loss_function", "loss=keras.losses.binary_crossentropy (the function), Adam(learning_rate=1e-3)",
            _everywhere(COMPILE, "model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), "
                                 "loss=keras.losses.binary_crossentropy, metrics=[\"accuracy\"])"), expected=16),
    Crafted("style_keywords", "keyword arguments everywhere (input_dim=, output_dim=, units=)",
            _merge({g: [("keras.layers.Embedding(VOCAB, 32)", "keras.layers.Embedding(input_dim=VOCAB, output_dim=32)")]
                    for g in SCRATCH},
                   {"glove_model": [("keras.layers.Embedding(VOCAB, 50,",
                                     "keras.layers.Embedding(input_dim=VOCAB, output_dim=50,")]},
                   _everywhere(SIGMOID, 'keras.layers.Dense(units=1, activation="sigmoid"),'),
                   {"basic": [("keras.layers.LSTM(32)", "keras.layers.LSTM(units=32)")],
                    "dropout": [("keras.layers.LSTM(32,", "keras.layers.LSTM(units=32,")],
                    "bidirectional": [("keras.layers.Bidirectional(keras.layers.LSTM(32))",
                                       "keras.layers.Bidirectional(layer=keras.layers.LSTM(units=32), "
                                       "merge_mode=\"concat\")")],
                    "glove_model": [("keras.layers.LSTM(32)", "keras.layers.LSTM(units=32)")]}), expected=16),
    Crafted("style_mask_zero", "mask_zero=True in every embedding (the padding is skipped, no new parameters)",
            _merge({g: [("keras.layers.Embedding(VOCAB, 32)", "keras.layers.Embedding(VOCAB, 32, mask_zero=True)")]
                    for g in SCRATCH},
                   {"glove_model": [("trainable=False", "trainable=False, mask_zero=True")]}), expected=16),
    Crafted("glove_set_weights", "the GloVe table put in with set_weights after the model is built",
            cells={"glove_model": GLOVE_SET_WEIGHTS}, expected=16),
    Crafted("glove_weights_argument", "Embedding(VOCAB, 50, weights=[matrix], trainable=False)",
            {"glove_model": [("embeddings_initializer=keras.initializers.Constant(matrix)", "weights=[matrix]")]},
            expected=16),
    Crafted("pad_keras", "pad_front with keras.utils.pad_sequences(padding=\"pre\", truncating=\"pre\")",
            cells={"pad_front": PAD_KERAS}, expected=16),
    Crafted("pad_numpy", "pad_front vectorised with a boolean mask", cells={"pad_front": PAD_NUMPY}, expected=16),
    Crafted("pad_listcomp", "pad_front with list comprehensions", cells={"pad_front": PAD_LISTCOMP}, expected=16),
]

#: independent parts (tests/make_submissions.py packs one crafted submission of each into a graded notebook): each
#: builder's tests read its own model only; pad_front makes the sequences every model trains on, but a wrong
#: padding leaves their shapes, so the models' tests still pass
PARTS = [Part(("pad_front",), ("test_pad_front", "test_sequences")),
         Part(("basic",), ("test_basic_model", "test_accuracy")),
         Part(("dropout",), ("test_dropout_model",)),
         Part(("stacked",), ("test_stacked_model",)),
         Part(("bidirectional",), ("test_bidirectional_model",)),
         Part(("glove_model",), ("test_glove_model", "test_glove_frozen"))]

CATALOGUE = WRONG + RIGHT
