"""Catalogue of imdb_sentiment submissions (16 autograded points: pad_front 2, sequences 2, basic 3, dropout 1,
stacked 2, bidirectional 2, glove model 2, glove frozen 1, accuracy 1)."""

from make_submissions import Crafted

CATALOGUE = [
    Crafted("hidden_64", "LSTM(64) instead of LSTM(32) in the basic model",
            {"basic": [("keras.layers.LSTM(32)", "keras.layers.LSTM(64)")]}, expected=13),
    Crafted("stack_return_sequences", "the second stacked LSTM does not return its sequence (the build fails)",
            {"stacked": [("keras.layers.LSTM(32, return_sequences=True),\n        keras.layers.LSTM(32),",
                          "keras.layers.LSTM(32, return_sequences=False),\n        keras.layers.LSTM(32),")]},
            expected=14),
    Crafted("no_bidirectional", "a plain LSTM where Bidirectional(LSTM) is asked",
            {"bidirectional": [("keras.layers.Bidirectional(keras.layers.LSTM(32))", "keras.layers.LSTM(32)")]},
            expected=14),
    Crafted("vocab_20000", "Embedding(20_000, 32) in the four trained-from-scratch models",
            {g: [("keras.layers.Embedding(VOCAB, 32)", "keras.layers.Embedding(20_000, 32)")]
             for g in ("basic", "dropout", "stacked", "bidirectional")}, expected=8),
    Crafted("count_params_patched", "LSTM(64) hidden behind a patched count_params (instance and class)",
            {"basic": [("keras.layers.LSTM(32)", "keras.layers.LSTM(64)"),
                       ("    return model\n",
                        "    model.count_params = lambda: 328_353\n"
                        "    keras.Model.count_params = lambda self: 328_353\n"
                        "    return model\n")]}, expected=13),
    Crafted("post_padding", "pads at the end and keeps the first SEQ_LEN words",
            {"pad_front": [("tail = list(seq)[-seq_len:] if seq_len > 0 else []", "tail = list(seq)[:seq_len]"),
                           ("out[k, seq_len - len(tail):] = tail", "out[k, :len(tail)] = tail")]}, expected=12),
    Crafted("glove_trainable", "the GloVe embedding is left trainable",
            {"glove_model": [("trainable=False", "trainable=True")]}, expected=13),
]
