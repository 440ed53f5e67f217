"""Helper package of the LSTM course."""
