"""Catalogue of lstm_cell submissions (14 autograded points: sigmoid 1, shapes 1, reference 3, gates 3,
forward 2, Keras 2, PyTorch 2)."""

from make_submissions import Crafted

CATALOGUE = [
    Crafted("cell_no_tanh", "h_t = o_t * c_t: forgets the tanh of the cell state",
            {"lstm_cell": [("h_t = o_t * np.tanh(c_t)", "h_t = o_t * c_t")]}, expected=2),  # sigmoid 1 + shapes 1
]
