"""Catalogue of char_generation submissions (14 autograded points: clean text 1, maps 2, dataset 3, encode 1,
char model 2, sample 2, generate 2, better model 1).

A bug costs its own test and every test that reads what it made: generate is graded with the student's own
sample, so a sample that ignores its rng or its temperature costs generate too (10), and a model or an encoder
that generate cannot run costs generate as well.

Decisions: clean_text must give what lc.gutenberg.strip_gutenberg gives (Part 1 asks for that helper): a
hand-written cut of the markers that also drops the "Produced by" credit is right, one that keeps the credit is
wrong. generate may call model(x) instead of model.predict(x, verbose=0): the same function, and the notebook
says so. An integer window given to a float keras.Input in front of the Embedding is right (the embedding
casts it; the notebook's dtype="int32" is the clean way). sample may return a NumPy integer.

Known gap (shared code): loss=keras.losses.categorical_crossentropy (the function, not the class) is right, but
the trusted checker refuses to rebuild a compile config that names it ({"module": "builtins", "class_name":
"function", ...}) and the model's test fails; it joins the catalogue when autograder/checker.py accepts it.
"""

from make_submissions import Crafted, Part

# --------------------------------------------------------------------------------------------- answer cells
TEXT = '''\
def clean_text(raw):
    """The book without the Gutenberg header/footer, lower-cased."""
{clean}


{maps}
n_vocab = len(chars)
print(f"{{len(text):,}} characters, {{n_vocab}} distinct:", "".join(chars))
'''

REF_MAPS = '''\
text = clean_text(raw)
chars = sorted(set(text))
char_to_int = {c: i for i, c in enumerate(chars)}
int_to_char = {i: c for i, c in enumerate(chars)}'''

REF_CLEAN = "    return lc.gutenberg.strip_gutenberg(raw).lower()"

MODELS_SEQUENTIAL_ADD = '''\
def build_char_model(n_vocab, seq_length=SEQ_LENGTH):
    """LSTM(256) on (seq_length, 1) inputs -> Dropout(0.2) -> Dense(n_vocab, softmax), compiled."""
    model = keras.Sequential()
    model.add(keras.Input(shape=(seq_length, 1)))
    model.add(keras.layers.LSTM(256))
    model.add(keras.layers.Dropout(0.2))
    model.add(keras.layers.Dense(n_vocab, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    return model
'''

BETTER_SEQUENTIAL_ADD = '''\
def build_better_model(n_vocab, seq_length=SEQ_LENGTH):
    """Embedding(n_vocab, 32) on integer windows -> LSTM(256) -> Dropout(0.2) -> Dense(n_vocab, softmax)."""
    model = keras.Sequential()
    model.add(keras.Input(shape=(seq_length,), dtype="int32"))
    model.add(keras.layers.Embedding(n_vocab, 32))
    model.add(keras.layers.LSTM(256))
    model.add(keras.layers.Dropout(0.2))
    model.add(keras.layers.Dense(n_vocab, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    return model
'''

MODELS_FUNCTIONAL = '''\
def build_char_model(n_vocab, seq_length=SEQ_LENGTH):
    """LSTM(256) on (seq_length, 1) inputs -> Dropout(0.2) -> Dense(n_vocab, softmax), compiled."""
    inputs = keras.Input(shape=(seq_length, 1))
    h = keras.layers.LSTM(256)(inputs)
    h = keras.layers.Dropout(0.2)(h)
    outputs = keras.layers.Dense(n_vocab, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    return model
'''

BETTER_FUNCTIONAL = '''\
def build_better_model(n_vocab, seq_length=SEQ_LENGTH):
    """Embedding(n_vocab, 32) on integer windows -> LSTM(256) -> Dropout(0.2) -> Dense(n_vocab, softmax)."""
    inputs = keras.Input(shape=(seq_length,), dtype="int32")
    h = keras.layers.Embedding(n_vocab, 32)(inputs)
    h = keras.layers.LSTM(256)(h)
    h = keras.layers.Dropout(0.2)(h)
    outputs = keras.layers.Dense(n_vocab, activation="softmax")(h)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    return model
'''

SAMPLING = '''\
def sample(probs, temperature=0.0, rng=None):
    """Index drawn from probs sharpened by the temperature; argmax when temperature <= 0."""
{sample}


def generate(model, seed_text, length, encode, temperature=0.0, rng=None):
    """The `length` characters the model writes after seed_text."""
{generate}
'''

REF_SAMPLE = '''\
    probs = np.asarray(probs, dtype=np.float64).ravel()
    if temperature <= 0:
        return int(np.argmax(probs))
    rng = np.random.default_rng() if rng is None else rng
    logits = np.log(np.maximum(probs, 1e-300)) / temperature
    logits -= logits.max()
    p = np.exp(logits)
    return int(rng.choice(len(p), p=p / p.sum()))'''

REF_GENERATE = '''\
    window, out = seed_text, []
    for _ in range(length):
        probs = model.predict(encode(window), verbose=0)[0]  # (n_vocab,)
        ch = int_to_char[sample(probs, temperature, rng)]
        out.append(ch)
        window = window[1:] + ch
    return "".join(out)'''


def text_cell(clean: str = REF_CLEAN, maps: str = REF_MAPS) -> str:
    return TEXT.format(clean=clean, maps=maps)


def sampling_cell(sample: str = REF_SAMPLE, generate: str = REF_GENERATE) -> str:
    return SAMPLING.format(sample=sample, generate=generate)


def wrong(student, why, expected, edits=None, cells=None, alone=""):
    return Crafted(student, why, edits=edits or {}, cells=cells or {}, expected=expected, alone=alone)


def right(student, why, edits=None, cells=None):
    return Crafted(student, why, edits=edits or {}, cells=cells or {}, expected=14)


# the header cut by hand: everything after the "*** START OF ..." line
CUT_HEADER = '''\
    start = raw.find("*** START OF")
    if start >= 0:
        raw = raw[raw.find("\\n", start) + 1:]
'''
CUT_FOOTER = '''\
    end = raw.find("*** END OF")
    if end >= 0:
        raw = raw[:end]
'''

#: independent parts (tests/make_submissions.py packs one crafted submission of each into a graded notebook): the
#: tests compare each answer with a reference computed from the student's own text, maps, data and model; the
#: dataset cell's encode_scaled is what generate feeds the model, so the dataset and the sampling are one part
PARTS = [Part(("text",), ("test_clean_text", "test_char_maps")),
         Part(("dataset", "sampling"), ("test_dataset", "test_encode_scaled", "test_sample", "test_generate")),
         Part(("char_model",), ("test_char_model",)),
         Part(("better_model",), ("test_better_model",))]

CATALOGUE = [
    # ------------------------------------------------------------------ Part 1: the text and the maps (3)
    wrong("header_kept", "cuts the footer by hand, keeps the Gutenberg header", 13,
          cells={"text": text_cell(CUT_FOOTER + "    return raw.strip().lower()")}),
    wrong("footer_kept", "cuts the header by hand, keeps everything after the book", 13,
          cells={"text": text_cell(CUT_HEADER + "    return raw.strip().lower()")}),
    wrong("credit_kept", "cuts both markers by hand but keeps the 'Produced by' credit the helper removes", 13,
          cells={"text": text_cell(CUT_HEADER + CUT_FOOTER + "    return raw.strip().lower()")}),
    wrong("not_lowercased", "strips the header and footer but never lower-cases", 13,
          edits={"text": [("return lc.gutenberg.strip_gutenberg(raw).lower()",
                           "return lc.gutenberg.strip_gutenberg(raw)")]}),
    wrong("chars_unsorted", "chars = list(set(text)): the order of a set, not sorted", 12,
          edits={"text": [("chars = sorted(set(text))", "chars = list(set(text))")]}),
    wrong("char_to_int_from_one", "char_to_int counts from 1 (int_to_char from 0)", 9,
          edits={"text": [("char_to_int = {c: i for i, c in enumerate(chars)}",
                           "char_to_int = {c: i + 1 for i, c in enumerate(chars)}")]}),
    wrong("int_to_char_from_set", "int_to_char built from set(text), not from chars: not the inverse map", 7,
          edits={"text": [("int_to_char = {i: c for i, c in enumerate(chars)}",
                           "int_to_char = dict(enumerate(set(text)))")]}),
    # ------------------------------------------------------------------ Part 2: windows (3) and encode_scaled (1)
    wrong("X_raw_ids", "make_dataset forgets to scale X (raw ids)", 10,
          edits={"dataset": [("X = (ids[starts] / n_vocab).astype(np.float32)[:, :, None]",
                              "X = ids[starts].astype(np.float32)[:, :, None]")]}),
    wrong("X_scaled_by_n_vocab_minus_1", "X divided by n_vocab - 1 (so that it reaches 1)", 10,
          edits={"dataset": [("X = (ids[starts] / n_vocab)", "X = (ids[starts] / (n_vocab - 1))")]}),
    wrong("X_shape_1_100", "X reshaped to (n, 1, 100): one step of 100 features", 8,
          edits={"dataset": [("[:, :, None]  # (n, seq_length, 1)", "[:, None, :]")]},
          alone="the model is trained and tested on this X: it costs the model's test too"),
    wrong("Y_ids", "Y holds the target ids, not one-hot rows", 11,
          edits={"dataset": [("Y = np.zeros((n, n_vocab), dtype=np.float32)  # (n, n_vocab)\n"
                              "    Y[np.arange(n), ids[seq_length:]] = 1.0",
                              "Y = ids[seq_length:].astype(np.float32)")]}),
    Crafted("target_off_by_one", "targets y[i] = t[i + 99], the last input character",
            {"dataset": [("Y[np.arange(n), ids[seq_length:]] = 1.0", "Y[np.arange(n), ids[seq_length - 1:-1]] = 1.0")]},
            expected=11),
    wrong("windows_of_99", "windows of seq_length - 1 characters (the lab's '99 in, 1 out' read literally)", 10,
          edits={"dataset": [("np.arange(seq_length)[None, :]", "np.arange(seq_length - 1)[None, :]")]}),
    wrong("one_window_too_few", "the lab's loop range(len(t) - seq_length - 1) drops the last window", 11,
          cells={"dataset": '''\
def encode_scaled(window):
    """(1, w, 1) float32 for a window of w characters: each character's index divided by n_vocab."""
    ids = np.array([char_to_int[c] for c in window], dtype=np.float32)
    return (ids / n_vocab).reshape(1, len(window), 1)


def make_dataset(t, seq_length=SEQ_LENGTH):
    """X (n, seq_length, 1) scaled indices of t[i:i+seq_length]; Y (n, n_vocab) one-hot of t[i+seq_length]."""
    data_x, data_y = [], []
    for i in range(len(t) - seq_length - 1):
        data_x.append([char_to_int[c] for c in t[i:i + seq_length]])
        data_y.append(char_to_int[t[i + seq_length]])
    X = np.reshape(data_x, (len(data_x), seq_length, 1)).astype(np.float32) / np.float32(n_vocab)
    Y = np.zeros((len(data_y), n_vocab), dtype=np.float32)
    Y[np.arange(len(data_y)), data_y] = 1.0
    return X, Y
'''}),
    wrong("seq_length_ignored", "make_dataset uses SEQ_LENGTH instead of its argument seq_length", 11,
          edits={"dataset": [("n = len(t) - seq_length\n", "n = len(t) - SEQ_LENGTH\n"),
                             ("np.arange(seq_length)[None, :]", "np.arange(SEQ_LENGTH)[None, :]"),
                             ("ids[seq_length:]", "ids[SEQ_LENGTH:]")]}),
    wrong("encode_shape_T_1", "encode_scaled returns (w, 1): no batch axis", 11,
          edits={"dataset": [("return (ids / n_vocab).reshape(1, len(window), 1)",
                              "return (ids / n_vocab).reshape(len(window), 1)")]}),
    wrong("encode_shape_1_T", "encode_scaled returns (1, w): no feature axis (Keras adds it back, generate works)", 13,
          edits={"dataset": [("return (ids / n_vocab).reshape(1, len(window), 1)",
                              "return (ids / n_vocab).reshape(1, len(window))")]}),
    wrong("encode_float64", "encode_scaled returns float64 (ids divided without a float32 array)", 13,
          edits={"dataset": [("ids = np.array([char_to_int[c] for c in window], dtype=np.float32)\n",
                              "ids = np.array([char_to_int[c] for c in window])\n")]}),
    wrong("encode_int_array", "encode_scaled fills an int array: every scaled id truncated to 0", 11,
          edits={"dataset": [("return (ids / n_vocab).reshape(1, len(window), 1)",
                              "x = np.zeros((1, len(window), 1), dtype=int)\n"
                              "    x[0, :, 0] = ids / n_vocab\n"
                              "    return x")]}),
    # ------------------------------------------------------------------ Part 3: the model (2)
    wrong("lstm_128", "LSTM(128) instead of LSTM(256)", 12,
          edits={"char_model": [("keras.layers.LSTM(256)", "keras.layers.LSTM(128)")]}),
    wrong("no_dropout", "the Dropout layer is left out", 12,
          edits={"char_model": [("        keras.layers.Dropout(0.2),\n", "")]}),
    wrong("dropout_0_5", "Dropout(0.5) instead of Dropout(0.2)", 12,
          edits={"char_model": [("keras.layers.Dropout(0.2)", "keras.layers.Dropout(0.5)")]}),
    wrong("dense_no_softmax", "Dense(n_vocab) without softmax: the model outputs logits", 12,
          edits={"char_model": [('keras.layers.Dense(n_vocab, activation="softmax")', "keras.layers.Dense(n_vocab)")]}),
    wrong("logits_from_logits", "Dense without softmax and a loss from_logits=True: outputs are not probabilities", 12,
          edits={"char_model": [('keras.layers.Dense(n_vocab, activation="softmax")', "keras.layers.Dense(n_vocab)"),
                                ('loss="categorical_crossentropy"',
                                 "loss=keras.losses.CategoricalCrossentropy(from_logits=True)")]}),
    wrong("loss_mse", 'loss="mse"', 12,
          edits={"char_model": [('loss="categorical_crossentropy"', 'loss="mse"')]}),
    wrong("loss_sparse", 'loss="sparse_categorical_crossentropy" with one-hot targets', 12,
          edits={"char_model": [('loss="categorical_crossentropy"', 'loss="sparse_categorical_crossentropy"')]}),
    wrong("optimizer_sgd", 'optimizer="sgd"', 12,
          edits={"char_model": [('optimizer="adam"', 'optimizer="sgd"')]}),
    wrong("return_sequences", "LSTM(256, return_sequences=True): one prediction per step", 10,
          edits={"char_model": [("keras.layers.LSTM(256)", "keras.layers.LSTM(256, return_sequences=True)")]}),
    Crafted("input_shape_swapped", "the char model reads (1, 100): time steps and features swapped",
            {"char_model": [("keras.Input(shape=(seq_length, 1))", "keras.Input(shape=(1, seq_length))")]},
            expected=10),
    # ------------------------------------------------------------------ Part 4: sample (2) and generate (2)
    wrong("sample_T0_only_equal", "argmax only when temperature == 0: a negative temperature samples", 12,
          edits={"sampling": [("if temperature <= 0:", "if temperature == 0:")]}),
    wrong("sample_p_pow_T", "p ** T instead of p ** (1 / T) (logits multiplied by T)", 10,
          edits={"sampling": [("np.log(np.maximum(probs, 1e-300)) / temperature",
                               "np.log(np.maximum(probs, 1e-300)) * temperature")]}),
    wrong("sample_global_random", "draws with np.random.choice, ignoring rng", 10,
          edits={"sampling": [("return int(rng.choice(len(p), p=p / p.sum()))",
                               "return int(np.random.choice(len(p), p=p / p.sum()))")]}),
    wrong("sample_not_renormalised", "never renormalises: rng.choice(p=exp(logits - max))", 10,
          edits={"sampling": [("p=p / p.sum()", "p=p")]}),
    wrong("sample_no_logs", "p ** (1 / T) then renormalised, without logarithms: 0/0 at small T", 12,
          cells={"sampling": sampling_cell(sample='''\
    probs = np.asarray(probs, dtype=np.float64).ravel()
    if temperature <= 0:
        return int(np.argmax(probs))
    rng = np.random.default_rng() if rng is None else rng
    p = probs ** (1.0 / temperature)
    return int(rng.choice(len(p), p=p / p.sum()))''')}),
    wrong("sample_always_argmax", "sample ignores the temperature: always the argmax", 10,
          cells={"sampling": sampling_cell(sample="    return int(np.argmax(probs))")}),
    wrong("sample_cdf_unnormalised", "inverse CDF on exp(logits - max) without dividing by its sum", 12,
          edits={"sampling": [("return int(rng.choice(len(p), p=p / p.sum()))",
                               "return int(min(np.searchsorted(np.cumsum(p), rng.random()), len(p) - 1))")]}),
    wrong("generate_no_slide", "generate never slides its window: predicts from the seed every time", 12,
          edits={"sampling": [("        window = window[1:] + ch\n", "")]}),
    wrong("generate_slides_seed_char", "slides the window but appends the window's first character", 12,
          edits={"sampling": [("window = window[1:] + ch", "window = window[1:] + window[0]")]}),
    wrong("generate_ignores_encode", "generate always calls encode_scaled, whatever encode it is given", 12,
          edits={"sampling": [("model.predict(encode(window), verbose=0)", "model.predict(encode_scaled(window), verbose=0)")]}),
    wrong("generate_returns_seed", "returns the seed followed by the new text", 12,
          edits={"sampling": [('return "".join(out)', 'return seed_text + "".join(out)')]}),
    wrong("generate_length_minus_1", "writes length - 1 characters", 12,
          edits={"sampling": [("for _ in range(length):", "for _ in range(length - 1):")]}),
    wrong("generate_greedy_always", "generate calls sample with temperature 0 whatever it is given", 12,
          edits={"sampling": [("sample(probs, temperature, rng)", "sample(probs, 0.0, rng)")]}),
    wrong("generate_drops_rng", "generate does not pass rng on to sample", 12,
          edits={"sampling": [("sample(probs, temperature, rng)", "sample(probs, temperature)")]}),
    wrong("generate_global_model", "generate predicts with the global model_char, not its model argument", 12,
          edits={"sampling": [("model.predict(encode(window)", "model_char.predict(encode(window)")]}),
    # ------------------------------------------------------------------ Part 5: the better model (1)
    wrong("better_embedding_64", "Embedding(n_vocab, 64) instead of 32", 13,
          edits={"better_model": [("keras.layers.Embedding(n_vocab, 32)", "keras.layers.Embedding(n_vocab, 64)")]}),
    wrong("better_input_3d", "the better model keeps the first model's input (seq_length, 1)", 13,
          edits={"better_model": [('keras.Input(shape=(seq_length,), dtype="int32")',
                                   'keras.Input(shape=(seq_length, 1), dtype="int32")')]}),
    wrong("better_no_softmax", "the better model's Dense has no softmax", 13,
          edits={"better_model": [('keras.layers.Dense(n_vocab, activation="softmax")', "keras.layers.Dense(n_vocab)")]}),
    wrong("better_loss_sparse", "the better model compiled with sparse_categorical_crossentropy (integer inputs, "
          "but one-hot targets)", 13,
          edits={"better_model": [('loss="categorical_crossentropy"', 'loss="sparse_categorical_crossentropy"')]}),
    # ------------------------------------------------------------------ right answers in other styles
    right("models_sequential_add", "both models built with Sequential().add()",
          cells={"char_model": MODELS_SEQUENTIAL_ADD, "better_model": BETTER_SEQUENTIAL_ADD}),
    right("models_functional", "both models with the functional API keras.Model(inputs, outputs)",
          cells={"char_model": MODELS_FUNCTIONAL, "better_model": BETTER_FUNCTIONAL}),
    right("models_dense_activation", 'Dense(n_vocab) followed by Activation("softmax") in both models',
          edits={"char_model": [('keras.layers.Dense(n_vocab, activation="softmax"),',
                                 'keras.layers.Dense(n_vocab),\n        keras.layers.Activation("softmax"),')],
                 "better_model": [('keras.layers.Dense(n_vocab, activation="softmax"),',
                                   'keras.layers.Dense(n_vocab),\n        keras.layers.Activation("softmax"),')]}),
    right("models_loss_optimizer_objects", "keras.losses.CategoricalCrossentropy() and keras.optimizers.Adam(...)",
          edits={"char_model": [('model.compile(loss="categorical_crossentropy", optimizer="adam")',
                                 "model.compile(loss=keras.losses.CategoricalCrossentropy(),\n"
                                 "                  optimizer=keras.optimizers.Adam(learning_rate=1e-3))")],
                 "better_model": [('model.compile(loss="categorical_crossentropy", optimizer="adam")',
                                   "model.compile(optimizer=keras.optimizers.Adam(),\n"
                                   "                  loss=keras.losses.CategoricalCrossentropy(from_logits=False))")]}),
    right("sample_inverse_cdf", "sample by inverse CDF with rng.random(); a NumPy integer returned",
          cells={"sampling": sampling_cell(sample='''\
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    if temperature <= 0:
        return np.argmax(p)
    if rng is None:
        rng = np.random.default_rng()
    z = np.log(p + 1e-12) / temperature
    w = np.exp(z - np.max(z))
    cdf = np.cumsum(w / np.sum(w))
    return min(np.searchsorted(cdf, rng.random(), side="right"), len(p) - 1)''')}),
    right("sample_log_softmax", "log-softmax in NumPy (logsumexp by hand), rng.choice on exp(log p)",
          cells={"sampling": sampling_cell(sample='''\
    probs = np.ravel(probs).astype(np.float64)
    if not temperature > 0:
        return int(probs.argmax())
    if rng is None:
        rng = np.random.default_rng()
    with np.errstate(divide="ignore"):
        logits = np.log(probs) / temperature
    m = np.max(logits)
    log_p = logits - (m + np.log(np.sum(np.exp(logits - m))))
    return int(rng.choice(probs.size, p=np.exp(log_p)))''')}),
    right("generate_model_call", "generate calls model(x) instead of model.predict (accepted, the notebook says so); "
          "the window re-cut from the text written so far",
          cells={"sampling": sampling_cell(generate='''\
    written = seed_text
    for _ in range(length):
        window = written[-len(seed_text):]
        probs = np.asarray(model(encode(window)))[0]
        written += int_to_char[sample(probs, temperature=temperature, rng=rng)]
    return written[len(seed_text):]''')}),
    right("dataset_loop", "make_dataset with the lab's loop, np.reshape and to_categorical; encode_scaled with [None, :, None]",
          cells={"dataset": '''\
def encode_scaled(window):
    """(1, w, 1) float32 for a window of w characters: each character's index divided by n_vocab."""
    return (np.array([char_to_int[c] for c in window], dtype=np.float32) / n_vocab)[None, :, None]


def make_dataset(t, seq_length=SEQ_LENGTH):
    """X (n, seq_length, 1) scaled indices of t[i:i+seq_length]; Y (n, n_vocab) one-hot of t[i+seq_length]."""
    data_x, data_y = [], []
    for i in range(0, len(t) - seq_length, 1):
        seq_in = t[i:i + seq_length]
        seq_out = t[i + seq_length]
        data_x.append([char_to_int[char] for char in seq_in])
        data_y.append(char_to_int[seq_out])
    X = np.reshape(data_x, (len(data_x), seq_length, 1)) / float(n_vocab)
    Y = keras.utils.to_categorical(data_y, num_classes=n_vocab)
    return X.astype("float32"), Y.astype("float32")
'''}),
    right("clean_text_by_hand", "the markers and the 'Produced by' credit cut by hand with str.find, maps with zip",
          cells={"text": text_cell('''\
    start = raw.find("*** START OF")
    if start != -1:
        raw = raw[raw.index("\\n", start) + 1:]
    end = raw.find("*** END OF")
    if end != -1:
        raw = raw[:end]
    raw = raw.strip()
    if raw.startswith("Produced by"):
        raw = raw[raw.find("\\n\\n"):].strip()
    return raw.lower()''', '''\
text = clean_text(raw)
chars = sorted(list(set(text)))
char_to_int = dict(zip(chars, range(len(chars))))
int_to_char = {i: c for c, i in char_to_int.items()}''')}),
    right("better_float_input", "the better model's keras.Input without dtype (the Embedding casts the ids)",
          edits={"better_model": [('keras.Input(shape=(seq_length,), dtype="int32")', "keras.Input(shape=(seq_length,))")]}),
    right("encode_fromiter", "encode_scaled with np.fromiter and float32 division, make_dataset with sliding_window_view",
          cells={"dataset": '''\
def encode_scaled(window):
    """(1, w, 1) float32 for a window of w characters: each character's index divided by n_vocab."""
    ids = np.fromiter((char_to_int[c] for c in window), dtype=np.float32, count=len(window))
    return (ids / np.float32(n_vocab)).reshape(1, -1, 1)


def make_dataset(t, seq_length=SEQ_LENGTH):
    """X (n, seq_length, 1) scaled indices of t[i:i+seq_length]; Y (n, n_vocab) one-hot of t[i+seq_length]."""
    ids = np.array([char_to_int[c] for c in t])
    windows = np.lib.stride_tricks.sliding_window_view(ids, seq_length + 1)  # (n, seq_length + 1)
    X = (windows[:, :-1, None] / n_vocab).astype(np.float32)
    Y = np.eye(n_vocab, dtype=np.float32)[windows[:, -1]]
    return X, Y
'''}),
]
