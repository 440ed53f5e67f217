"""Catalogue of char_generation submissions (14 autograded points: clean text 1, maps 2, dataset 3, encode 1,
char model 2, sample 2, generate 2, better model 1)."""

from make_submissions import Crafted

CATALOGUE = [
    Crafted("input_shape_swapped", "the char model reads (1, 100): time steps and features swapped",
            {"char_model": [("keras.Input(shape=(seq_length, 1))", "keras.Input(shape=(1, seq_length))")]},
            expected=10),
    Crafted("target_off_by_one", "targets y[i] = t[i + 99], the last input character",
            {"dataset": [("Y[np.arange(n), ids[seq_length:]] = 1.0", "Y[np.arange(n), ids[seq_length - 1:-1]] = 1.0")]},
            expected=11),
]
