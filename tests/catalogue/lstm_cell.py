"""Catalogue of lstm_cell submissions (14 autograded points: sigmoid 1, shapes 1, reference 3, gates 3,
forward 2, Keras 2, PyTorch 2).

Scores cascade: sigmoid is used by lstm_cell, and lstm_forward calls lstm_cell, so a wrong sigmoid or cell
also loses the forward, Keras and PyTorch tests. A wrong cell that keeps its shapes scores 2 (sigmoid 1 +
shapes 1), a wrong lstm_forward whose cell is right scores 8 (or 10/12 when only the given-state or the
once-per-step checks catch it). The rule "NumPy only" (no Keras, PyTorch, lstm_course.cells or .layouts in the
student's code) costs all 14 points; code that hides what it imports gets the outcome needs_review (and 0).

Decisions: float32 is wrong (the notebook says "work in float64", compared to about 1e-7); a list [h_t, c_t]
instead of the tuple loses the visible shapes point only (the notebook asks for a tuple and the student's own
check says so); a plain 1 / (1 + np.exp(-z)) is right (np.exp overflows to inf with a RuntimeWarning for very
negative z, and 1 / inf = 0 is the right value).

Graded once and left out of the batch to keep it short (each lost exactly the points predicted; they repeat a
class above): sigmoid with math.exp (0) or in float32 (8); no recurrent term, W_c in the output gate, zero
states returned (2); `h0 if h0 else zeros`, zero states of size x (10); backwards, h appended before the step,
xs read time-major, zeros returned (8); torch.nn.LSTM, `from lstm_course import cells` (0); importlib with a
name built from pieces (needs_review, 0).
"""

from make_submissions import Crafted

SIGMOID = "def sigmoid(z):\n    \"\"\"Element-wise logistic function of an array.\"\"\"\n{body}\n"
CELL = "def lstm_cell(x_t, h_prev, c_prev, params):\n    \"\"\"One LSTM step; returns (h_t, c_t).\"\"\"\n{body}\n"
FORWARD = ("def lstm_forward(xs, params, h0=None, c0=None):\n"
           "    \"\"\"Runs lstm_cell over xs (batch, T, x); returns (hs, h_T, c_T).\"\"\"\n{body}\n")

# --- right answers in other styles ----------------------------------------------------------------------------
STACKED_CELL = CELL.format(body="""\
    # the four gates in one matmul, in the Keras order i, f, c, o
    W = np.concatenate([params[f"W_{g}"] for g in "ifco"], axis=1)  # (x, 4h)
    U = np.concatenate([params[f"U_{g}"] for g in "ifco"], axis=1)  # (h, 4h)
    b = np.concatenate([params[f"b_{g}"] for g in "ifco"])  # (4h,)
    z = x_t @ W + h_prev @ U + b  # (batch, 4h)
    z_i, z_f, z_c, z_o = np.split(z, 4, axis=1)
    i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o)
    c_t = f * c_prev + i * np.tanh(z_c)
    return o * np.tanh(c_t), c_t""")

EINSUM_CELL = CELL.format(body="""\
    def pre(g):
        return (np.einsum("bx,xh->bh", x_t, params["W_" + g]) + np.einsum("bk,kh->bh", h_prev, params["U_" + g])
                + params["b_" + g])
    f, i, o = sigmoid(pre("f")), sigmoid(pre("i")), sigmoid(pre("o"))
    c_hat = np.tanh(pre("c"))
    c_t = np.multiply(f, c_prev) + np.multiply(i, c_hat)
    h_t = np.multiply(o, np.tanh(c_t))
    return h_t, c_t""")

DOT_CELL = CELL.format(body="""\
    gates = {}
    for g in ["i", "f", "c", "o"]:
        gates[g] = np.dot(x_t, params["W_" + g]) + np.matmul(h_prev, params["U_" + g]) + params["b_" + g]
    c_t = sigmoid(gates["f"]) * c_prev + sigmoid(gates["i"]) * np.tanh(gates["c"])
    h_t = sigmoid(gates["o"]) * np.tanh(c_t)
    return (h_t, c_t)""")

COLUMN_CELL = CELL.format(body="""\
    # column vectors, as on the slides: z = W^T x + U^T h + b, then back to rows
    xT, hT = x_t.T, h_prev.T  # (x, batch), (h, batch)
    def gate(g):
        return (params["W_" + g].T @ xT + params["U_" + g].T @ hT + params["b_" + g][:, None]).T
    f, i, c_tilde, o = sigmoid(gate("f")), sigmoid(gate("i")), np.tanh(gate("c")), sigmoid(gate("o"))
    c_t = f * c_prev + i * c_tilde
    return o * np.tanh(c_t), c_t""")

WHILE_FORWARD = FORWARD.format(body="""\
    B, T, _ = xs.shape
    n_h = len(params["b_i"])
    h = np.zeros((B, n_h)) if h0 is None else h0
    c = np.zeros((B, n_h)) if c0 is None else c0
    hs = np.zeros((B, T, n_h))  # preallocated
    t = 0
    while t < T:
        h, c = lstm_cell(x_t=xs[:, t, :], h_prev=h, c_prev=c, params=params)
        hs[:, t, :] = h
        t += 1
    return hs, h, c""")

MOVEAXIS_FORWARD = FORWARD.format(body="""\
    proto = xs[:, 0, :] @ params["W_f"]  # (batch, h), float64
    h = np.zeros_like(proto) if h0 is None else h0
    c = np.zeros_like(proto) if c0 is None else c0
    outputs = []
    for x_t in np.moveaxis(xs, 1, 0):  # (batch, x) for each step
        h, c = lstm_cell(x_t, h, c, params)
        outputs.append(h)
    return np.array(outputs).transpose(1, 0, 2), h, c""")

DICT_CELL = CELL.format(body="""\
    pre = {g: x_t.dot(params["W_" + g]) + h_prev.dot(params["U_" + g]) + params["b_" + g] for g in "ifco"}
    i, f, o = (sigmoid(pre[g]) for g in "ifo")
    c_t = f * c_prev + i * np.tanh(pre["c"])
    h_t = o * np.tanh(c_t)
    return h_t, c_t""")

CONCAT_FORWARD = FORWARD.format(body="""\
    n_h = params["W_i"].shape[1]
    h = np.zeros((len(xs), n_h)) if h0 is None else np.array(h0, dtype=float)  # copies
    c = np.zeros((len(xs), n_h)) if c0 is None else np.array(c0, dtype=float)
    hs = []
    for t in range(xs.shape[1]):
        h, c = lstm_cell(xs[:, t], h, c, params)
        hs.append(h[:, None, :])  # (batch, 1, h)
    return np.concatenate(hs, axis=1), h, c""")

STABLE_SIGMOID = SIGMOID.format(body="""\
    z = np.asarray(z, dtype=np.float64)
    return np.exp(np.minimum(z, 0)) / (1.0 + np.exp(-np.abs(z)))  # exp(-|z|) never overflows""")

CATALOGUE = [
    # ---------------------------------------------------------------------------------------- right answers
    Crafted("right_stacked_split", "one stacked matmul of the four gates then np.split; sigmoid 1 / (1 + np.exp(-z)) "
            "(np.exp overflows with a RuntimeWarning for very negative z, 1 / inf = 0 is right)",
            cells={"lstm_cell": STACKED_CELL, "sigmoid": SIGMOID.format(body="    return 1 / (1 + np.exp(-z))")},
            expected=14),
    Crafted("right_einsum", "np.einsum and np.multiply; sigmoid from tanh: (1 + tanh(z / 2)) / 2",
            cells={"lstm_cell": EINSUM_CELL,
                   "sigmoid": SIGMOID.format(body="    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z)))")},
            expected=14),
    Crafted("right_dot_matmul", "np.dot and np.matmul in a loop over the gates, return (h_t, c_t); sigmoid of np.clip(z)",
            cells={"lstm_cell": DOT_CELL,
                   "sigmoid": SIGMOID.format(body="    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))")},
            expected=14),
    Crafted("right_column_vectors", "column-vector algebra W^T x; lstm_forward over np.moveaxis steps, states from "
            "np.zeros_like, np.array(...).transpose",
            cells={"lstm_cell": COLUMN_CELL, "lstm_forward": MOVEAXIS_FORWARD}, expected=14),
    Crafted("right_dict_concat", "gates in a dict comprehension with .dot; lstm_forward copies h0/c0 and concatenates "
            "(batch, 1, h) slices; sigmoid exp(min(z, 0)) / (1 + exp(-|z|))",
            cells={"lstm_cell": DICT_CELL, "lstm_forward": CONCAT_FORWARD, "sigmoid": STABLE_SIGMOID}, expected=14),
    Crafted("right_swapaxes_reciprocal", "h size from len(b_o), hs as np.swapaxes(np.array(hs), 0, 1); sigmoid via np.reciprocal",
            {"lstm_forward": [('h_size = params["U_f"].shape[0]', 'h_size = len(params["b_o"])'),
                              ("return np.stack(hs, axis=1), h, c", "return np.swapaxes(np.array(hs), 0, 1), h, c")]},
            cells={"sigmoid": SIGMOID.format(body="    return np.reciprocal(1.0 + np.exp(-np.asarray(z, dtype=float)))")},
            expected=14),
    Crafted("right_while_prealloc_keywords", "a while loop, hs preallocated with np.zeros, lstm_cell called by keyword",
            cells={"lstm_forward": WHILE_FORWARD}, expected=14),
    Crafted("right_hT_from_hs", "h_T taken as hs[:, -1], h_size from W_f",
            {"lstm_forward": [("h_size = params[\"U_f\"].shape[0]", "h_size = params[\"W_f\"].shape[1]"),
                              ("return np.stack(hs, axis=1), h, c", "hs = np.stack(hs, axis=1)\n    return hs, hs[:, -1, :], c")]},
            expected=14),
    # ------------------------------------------------------------------------------------------- sigmoid
    Crafted("sigmoid_half", "sigmoid hard-coded to 0.5 (passes the visible check)",
            cells={"sigmoid": SIGMOID.format(body="    return np.full(np.shape(z), 0.5)")}, expected=1),  # shapes
    Crafted("sigmoid_sign", "sigmoid(z) = 1 / (1 + exp(z)), i.e. sigmoid(-z)",
            cells={"sigmoid": SIGMOID.format(body="    return 1 / (1 + np.exp(z))")}, expected=1),  # shapes
    # ---------------------------------------------------------------------------------------------- cell
    Crafted("cell_no_tanh", "h_t = o_t * c_t: forgets the tanh of the cell state",
            {"lstm_cell": [("h_t = o_t * np.tanh(c_t)", "h_t = o_t * c_t")]}, expected=2),  # sigmoid 1 + shapes 1
    Crafted("cell_tanh_outside", "h_t = tanh(o_t * c_t)",
            {"lstm_cell": [("h_t = o_t * np.tanh(c_t)", "h_t = np.tanh(o_t * c_t)")]}, expected=2),
    Crafted("cell_gates_swapped", "the forget gate reads the input gate's weights and vice versa",
            {"lstm_cell": [('f_t = sigmoid(x_t @ p["W_f"] + h_prev @ p["U_f"] + p["b_f"])',
                            'f_t = sigmoid(x_t @ p["W_i"] + h_prev @ p["U_i"] + p["b_i"])'),
                           ('i_t = sigmoid(x_t @ p["W_i"] + h_prev @ p["U_i"] + p["b_i"])',
                            'i_t = sigmoid(x_t @ p["W_f"] + h_prev @ p["U_f"] + p["b_f"])')]}, expected=2),
    Crafted("cell_W_U_swapped", "x_t @ U and h_prev @ W (the shapes only fit when x == h)",
            {"lstm_cell": [(f'x_t @ p["W_{g}"] + h_prev @ p["U_{g}"]', f'x_t @ p["U_{g}"] + h_prev @ p["W_{g}"]')
                           for g in "fico"]}, expected=1),  # sigmoid
    Crafted("cell_W_transposed", "x_t @ W.T in every gate (the shapes only fit when x == h)",
            {"lstm_cell": [(f'x_t @ p["W_{g}"]', f'x_t @ p["W_{g}"].T') for g in "fico"]}, expected=1),
    Crafted("cell_U_transposed", "h_prev @ U.T in every gate (square, so no shape error)",
            {"lstm_cell": [(f'h_prev @ p["U_{g}"]', f'h_prev @ p["U_{g}"].T') for g in "fico"]}, expected=2),
    Crafted("cell_no_forget_bias", "the forget gate has no bias",
            {"lstm_cell": [(' + p["b_f"])', ")")]}, expected=2),
    Crafted("cell_wrong_bias", "the input gate adds the forget gate's bias",
            {"lstm_cell": [('h_prev @ p["U_i"] + p["b_i"]', 'h_prev @ p["U_i"] + p["b_f"]')]}, expected=2),
    Crafted("cell_sigmoid_candidate", "the candidate through sigmoid instead of tanh",
            {"lstm_cell": [('c_tilde = np.tanh(', 'c_tilde = sigmoid(')]}, expected=2),
    Crafted("cell_tanh_output_gate", "the output gate through tanh instead of sigmoid",
            {"lstm_cell": [('o_t = sigmoid(', 'o_t = np.tanh(')]}, expected=2),
    Crafted("cell_no_input_gate", "c_t = f_t * c_prev + c~_t: no input gate",
            {"lstm_cell": [("c_t = f_t * c_prev + i_t * c_tilde", "c_t = f_t * c_prev + c_tilde")]}, expected=2),
    Crafted("cell_forget_h_prev", "c_t = f_t * h_prev + ...: forgets from the hidden state",
            {"lstm_cell": [("c_t = f_t * c_prev", "c_t = f_t * h_prev")]}, expected=2),
    Crafted("cell_returns_c_h", "returns (c_t, h_t) instead of (h_t, c_t)",
            {"lstm_cell": [("return h_t, c_t", "return c_t, h_t")]}, expected=2),
    Crafted("cell_returns_list", "returns the list [h_t, c_t]: the notebook asks for a tuple (visible check)",
            {"lstm_cell": [("return h_t, c_t", "return [h_t, c_t]")]}, expected=13),
    Crafted("cell_float32", "computes in float32 (the notebook asks for float64, compared to about 1e-7)",
            {"lstm_cell": [("p = params", "p = {k: v.astype(np.float32) for k, v in params.items()}\n"
                                          "    x_t, h_prev, c_prev = (np.float32(a) for a in (x_t, h_prev, c_prev))")]},
            expected=9),  # sigmoid, shapes, gates (default tolerance), Keras, PyTorch (1e-4)
    # ------------------------------------------------------------------------------------------ forward
    Crafted("fwd_ignores_h0", "always starts from h = 0",
            {"lstm_forward": [("if h0 is None else h0", "")]}, expected=10),
    Crafted("fwd_ignores_c0", "always starts from c = 0",
            {"lstm_forward": [("if c0 is None else c0", "")]}, expected=10),
    Crafted("fwd_c0_for_h0", "h starts from the given c0",
            {"lstm_forward": [("if h0 is None else h0", "if h0 is None else c0")]}, expected=10),
    Crafted("fwd_h0_none_resets_c", "the classic `if h0 is None: h = c = zeros` ignores a c0 given without h0",
            {"lstm_forward": [("h = np.zeros((batch, h_size)) if h0 is None else h0  # (batch, h)\n"
                               "    c = np.zeros((batch, h_size)) if c0 is None else c0  # (batch, h)",
                               "if h0 is None:\n        h = c = np.zeros((batch, h_size))\n"
                               "    else:\n        h, c = h0, c0")]}, expected=12),
    Crafted("fwd_zeros_2x4", "zero states of the visible test's shape (2, 4), copied from the Try-it cell",
            {"lstm_forward": [("np.zeros((batch, h_size)) if h0 is None", "np.zeros((2, 4)) if h0 is None"),
                              ("np.zeros((batch, h_size)) if c0 is None", "np.zeros((2, 4)) if c0 is None")]},
            expected=10),  # the single-step and other-size checks; PyTorch gives h0 and c0
    Crafted("fwd_only_hs", "returns hs without the last states",
            {"lstm_forward": [("return np.stack(hs, axis=1), h, c", "return np.stack(hs, axis=1)")]}, expected=8),
    Crafted("fwd_first_states", "returns the first states instead of the last",
            {"lstm_forward": [("hs = []\n", "h_first, c_first = h, c\n    hs = []\n"),
                              ("return np.stack(hs, axis=1), h, c", "return np.stack(hs, axis=1), h_first, c_first")]},
            expected=8),
    Crafted("fwd_wrong_axis", "stacks hs along axis 0: (T, batch, h)",
            {"lstm_forward": [("np.stack(hs, axis=1)", "np.stack(hs, axis=0)")]}, expected=8),
    Crafted("fwd_c_not_updated", "never updates c: h, _ = lstm_cell(...)",
            {"lstm_forward": [("h, c = lstm_cell(", "h, _ = lstm_cell(")]}, expected=8),
    Crafted("fwd_range_T_minus_1", "off by one: range(steps - 1)",
            {"lstm_forward": [("range(steps)", "range(steps - 1)")]}, expected=8),
    Crafted("fwd_inlined_cell", "does not call lstm_cell: copies the equations into the loop",
            {"lstm_forward": [("        h, c = lstm_cell(xs[:, t, :], h, c, params)  # (batch, h)",
                               "        x_t, p = xs[:, t, :], params\n"
                               "        f = sigmoid(x_t @ p['W_f'] + h @ p['U_f'] + p['b_f'])\n"
                               "        i = sigmoid(x_t @ p['W_i'] + h @ p['U_i'] + p['b_i'])\n"
                               "        g = np.tanh(x_t @ p['W_c'] + h @ p['U_c'] + p['b_c'])\n"
                               "        o = sigmoid(x_t @ p['W_o'] + h @ p['U_o'] + p['b_o'])\n"
                               "        c = f * c + i * g\n"
                               "        h = o * np.tanh(c)")]}, expected=12),
    Crafted("fwd_float32", "casts the sequence to float32 (the notebook asks for float64)",
            {"lstm_forward": [("batch, steps = xs.shape[0], xs.shape[1]",
                               "xs = xs.astype(np.float32)\n    batch, steps = xs.shape[0], xs.shape[1]")]},
            expected=12),
    # ---------------------------------------------------------------------------------------------- rules
    Crafted("rule_keras_forward", "lstm_forward runs keras.layers.LSTM instead of the student's cell",
            cells={"lstm_forward": FORWARD.format(body="""\
    import keras
    n_h = params["U_f"].shape[0]
    layer = keras.layers.LSTM(n_h, return_sequences=True, return_state=True)
    layer.build((None,) + xs.shape[1:])
    kernel = np.concatenate([params[f"W_{g}"] for g in "ifco"], axis=1)
    recurrent = np.concatenate([params[f"U_{g}"] for g in "ifco"], axis=1)
    bias = np.concatenate([params[f"b_{g}"] for g in "ifco"])
    layer.set_weights([kernel, recurrent, bias])
    state = None if h0 is None else [h0.astype("float32"), c0.astype("float32")]
    hs, h, c = layer(xs.astype("float32"), initial_state=state)
    return np.asarray(hs, dtype=float), np.asarray(h, dtype=float), np.asarray(c, dtype=float)""")},
            expected=0),
    Crafted("rule_ref_cell_renamed", "lstm_cell calls the course's reference cell imported under another name",
            cells={"lstm_cell": CELL.format(body="""\
    from lstm_course.cells import lstm_cell as numpy_step
    return numpy_step(x_t, h_prev, c_prev, params)""")}, expected=0),
    Crafted("rule_lc_cells", "lstm_cell returns lc.cells.lstm_cell(...) through the setup cell's lc",
            cells={"lstm_cell": CELL.format(body="    return lc.cells.lstm_cell(x_t, h_prev, c_prev, params)")},
            expected=0),
    Crafted("rule_dunder_import", "__import__('lstm_course.cells'): cannot be checked by reading it",
            cells={"lstm_cell": CELL.format(body="""\
    ref = __import__("lstm_course.cells", fromlist=["lstm_cell"])
    return ref.lstm_cell(x_t, h_prev, c_prev, params)""")}, expected=0, outcome="needs_review"),
]
