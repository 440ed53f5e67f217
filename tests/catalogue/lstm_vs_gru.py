"""Catalogue of lstm_vs_gru submissions (9 autograded points: lstm_params 2, gru_params 2, layers 2,
parameters 2, trained 1)."""

from make_submissions import Crafted

CATALOGUE = [
    Crafted("formula_no_bias", "lstm_params forgets the 4h biases",
            {"formulas": [("return 4 * (h * x + h * h + h)", "return 4 * (h * x + h * h)")]}, expected=7),
    Crafted("gru_for_lstm", "a GRU where the LSTM is asked",
            {"models": [("keras.layers.LSTM(UNITS)", "keras.layers.GRU(UNITS)")]}, expected=5),
]
