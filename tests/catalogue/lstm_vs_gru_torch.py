"""Catalogue of lstm_vs_gru_torch submissions (11 autograded points: lstm_params 2, gru_params 2, model_layers 2,
model_params 2, trained 1, training_loop 2).

A wrong formula costs its own test only (9). A module with other settings or weights (two layers, bidirectional,
an LSTM for the GRU, another embedding size) costs model_layers and model_params (7); a frozen embedding costs
model_params only (9: the settings and shapes are right, requires_grad is not); a forward that returns something
else than the Linear of h_n[-1] as a logit costs model_layers (the test compares model(x) with what the rebuilt
Embedding, LSTM and Linear compute). When the forward has the wrong shape (batch_first forgotten, h_n without
[-1]) the training cell fails on the loss's shapes, so trained and training_loop go too (6).

A kernel that describes its model falsely (a patched lstm_course.grading._torch_report, a subclass passed off as
torch.nn.LSTM) loses every test that reads the model, the training loop's too (5): the checker rebuilds each part
from torch.nn's own classes and runs it beside the student's part on inputs of its own.

Decisions, from measurements on the fast data:
- `output[:, -1]` is right here (one layer, one direction, no padding mask: it is h_n[-1]), as are
  batch_first=False with a transpose, h_n.squeeze(0), parts held in nn.Sequential/ModuleDict, a DataLoader loop
  with labels unsqueezed to (batch, 1). The notebook asks for a class with forward: an nn.Sequential at the top
  cannot pick h_n out of the LSTM's tuple without a class of the student's own inside it.
- training_loop trains model_lstm further on ONE batch of 48 reviews for 4 epochs and compares the history with
  a reference loop on copies of its parts (Adam's defaults, BCEWithLogitsLoss): with one batch an epoch the
  shuffling and the way batch losses are averaged do not matter, so any right loop matches to float rounding.
- zero_grad() forgotten: the loss still falls in the notebook's 2 epochs, so `trained`
  passes; the summed gradients change Adam's steps from the second on, so training_loop catches it (9).
- backward() or step() forgotten: the weights never change, the loss does not fall by more than 1e-4 (it only
  moves by float rounding as the batches are reshuffled): trained and training_loop are lost (8).
- sigmoid in forward with the notebook's BCEWithLogitsLoss (a double sigmoid): the loss still falls, so trained
  passes; the forward is not the asked logit, so model_layers is lost, and training_loop, which can compare
  with the reference only when the forward is the asked one, then only checks that the loss falls (9).
- A loop that ignores its `epochs` argument (range(EPOCHS)) makes the notebook's histories look right but gives
  the wrong number of epochs in training_loop (9); a train_model without `return` leaves no history (8).
"""

from make_submissions import Crafted, Part

FORMULAS = '''\
def lstm_params(h, x):
    """Parameters of torch.nn.LSTM(x, h): hidden size h, inputs of size x."""
{lstm}


def gru_params(h, x, bias=True):
    """Parameters of torch.nn.GRU(x, h, bias=bias): hidden size h, inputs of size x."""
{gru}
'''

REF_LSTM = "return 4 * (h * x + h * h + 2 * h)"
REF_GRU_BIAS = "biases = 2 * h if bias else 0"

REF_INIT_RNN = "self.rnn = rnn_class(EMBED_DIM, UNITS, batch_first=True)"
REF_FORWARD_END = "return self.head(h_n[-1])  # (batch, 1)"
REF_EMBEDDING = "self.embedding = torch.nn.Embedding(VOCAB, EMBED_DIM)"

BUILDERS = '''

def build_lstm_model():
    """Embedding -> LSTM -> Linear(UNITS, 1)."""
    return {lstm}


def build_gru_model():
    """Embedding -> GRU -> Linear(UNITS, 1)."""
    return {gru}
'''

LOOP_STEP = '''            optimizer.zero_grad()
            loss = loss_fn(model(x[batch]).squeeze(1), y[batch])  # logits (batch,) against labels (batch,)
            loss.backward()
            optimizer.step()
'''


def wrong(student: str, why: str, expected: float, **kw) -> Crafted:
    return Crafted(student, why, expected=expected, **kw)


# Reports that lie about a PyTorch model: the checker rebuilds every part from torch.nn's own classes and runs
# it beside the student's part on its own inputs (autograder/checker.py rebuild_torch).
#: The real model has 64 units; lstm_course.grading._torch_report is patched in the kernel to describe a correct
#: decoy of 32 units instead. The checker runs the real model's parts on its own inputs and they do not match
#: the description: no test can read the model (model_layers, model_params, training_loop lost: 5 of 11; an
#: honest 64-unit model keeps training_loop, 7).
LYING_REPORT = '''\
class ReviewClassifier(torch.nn.Module):
    def __init__(self, rnn_class, units=2 * UNITS):
        super().__init__()
        self.embedding = torch.nn.Embedding(VOCAB, EMBED_DIM)
        self.rnn = rnn_class(EMBED_DIM, units, batch_first=True)
        self.head = torch.nn.Linear(units, 1)

    def forward(self, x):
        _, state = self.rnn(self.embedding(x.long()))
        h_n = state[0] if isinstance(state, tuple) else state
        return self.head(h_n[-1])


def build_lstm_model():
    return ReviewClassifier(torch.nn.LSTM)


def build_gru_model():
    return ReviewClassifier(torch.nn.GRU)


import lstm_course.grading as _g

_describe = _g._torch_report


def _decoy_report(module):
    kind = type(module.rnn) if hasattr(module, "rnn") else torch.nn.LSTM
    return _describe(ReviewClassifier(kind, UNITS))


_g._torch_report = _decoy_report
'''

#: torch.nn.LSTM itself replaced in the kernel by a subclass that doubles h_n: the kernel then calls it
#: torch.nn.LSTM, the checker rebuilds a real torch.nn.LSTM from the reported settings and weights, and the
#: cross-check finds that the student's "LSTM" computes something else (model_layers, model_params and
#: training_loop lost: 5 of 11).
PATCHED_TORCH_NN = '''\
class _Doubling(torch.nn.LSTM):
    def forward(self, x, hx=None):
        out, (h, c) = super().forward(x, hx)
        return out, (2 * h, c)


_Doubling.__name__ = _Doubling.__qualname__ = "LSTM"  # passed off as torch.nn.LSTM itself
torch.nn.LSTM = _Doubling
'''


#: independent parts (tests/make_submissions.py packs one crafted submission of each into a graded notebook): the
#: formulas are plain functions no model uses; the models and the loop that trains them are one part
PARTS = [Part(("formulas",), ("test_lstm_params", "test_gru_params")),
         Part(("models", "training_loop"), ("test_model_layers", "test_model_params", "test_trained",
                                            "test_training_loop"))]

CATALOGUE = [
    # ---------------------------------------------------------------- formulas (each costs its own test: 9)
    wrong("lstm_keras_one_bias", "lstm_params with Keras' one bias per gate (8,320)", 9,
          edits={"formulas": [(REF_LSTM, "return 4 * (h * x + h * h + h)")]}),
    wrong("gru_bias_ignored", "gru_params always counts both biases (bias=False not handled)", 9,
          edits={"formulas": [(REF_GRU_BIAS, "biases = 2 * h")]}),
    Crafted("formulas_from_shapes", "sums of math.prod over PyTorch's weight shapes", expected=11,
            cells={"formulas": "import math\n\n\n" + FORMULAS.format(
                lstm="    shapes = [(4 * h, x), (4 * h, h), (4 * h,), (4 * h,)]\n"
                     "    return sum(math.prod(s) for s in shapes)",
                gru="    shapes = [(3 * h, x), (3 * h, h)] + ([(3 * h,), (3 * h,)] if bias else [])\n"
                    "    return sum(math.prod(s) for s in shapes)")}),
    # ---------------------------------------------------------------- models
    wrong("batch_first_forgotten", "torch.nn.LSTM(EMBED_DIM, UNITS) on (batch, steps, features): reads the batch as "
          "time", 6, edits={"models": [(REF_INIT_RNN, "self.rnn = rnn_class(EMBED_DIM, UNITS)")]}),
    wrong("h_n_without_index", "head(h_n) without [-1]: output (1, batch, 1)", 6,
          edits={"models": [(REF_FORWARD_END, "return self.head(h_n)")]}),
    wrong("two_layers", "num_layers=2 where one layer is asked", 7,
          edits={"models": [(REF_INIT_RNN, "self.rnn = rnn_class(EMBED_DIM, UNITS, num_layers=2, batch_first=True)")]}),
    wrong("bidirectional", "bidirectional=True, the head on both final states", 7,
          edits={"models": [(REF_INIT_RNN, "self.rnn = rnn_class(EMBED_DIM, UNITS, batch_first=True, bidirectional=True)"),
                            ("self.head = torch.nn.Linear(UNITS, 1)", "self.head = torch.nn.Linear(2 * UNITS, 1)"),
                            (REF_FORWARD_END, "return self.head(torch.cat([h_n[-2], h_n[-1]], dim=1))")]}),
    wrong("frozen_from_pretrained", "Embedding.from_pretrained(random table) with its default freeze=True", 9,
          edits={"models": [(REF_EMBEDDING, "self.embedding = torch.nn.Embedding.from_pretrained("
                                            "torch.randn(VOCAB, EMBED_DIM))")]}),
    wrong("gru_built_with_lstm", "copy-paste: build_gru_model builds an LSTM", 7,
          edits={"models": [("return ReviewClassifier(torch.nn.GRU)", "return ReviewClassifier(torch.nn.LSTM)")]}),
    wrong("embedding_64", "vectors of size 64 (and the recurrent module reading 64)", 7,
          edits={"models": [(REF_EMBEDDING, "self.embedding = torch.nn.Embedding(VOCAB, 64)"),
                            (REF_INIT_RNN, "self.rnn = rnn_class(64, UNITS, batch_first=True)")]}),
    wrong("double_sigmoid", "torch.sigmoid in forward, and the loop's BCEWithLogitsLoss applies another", 9,
          edits={"models": [(REF_FORWARD_END, "return torch.sigmoid(self.head(h_n[-1]))")]}),
    Crafted("output_last_step", "output[:, -1] instead of h_n[-1] (the same for one layer, one direction, no mask)",
            expected=11, edits={"models": [("_, state = self.rnn(vectors)", "output, state = self.rnn(vectors)"),
                                           (REF_FORWARD_END, "return self.head(output[:, -1])")]}),
    Crafted("steps_first_transposed", "batch_first=False and a transpose in forward, h_n.squeeze(0)", expected=11,
            edits={"models": [(REF_INIT_RNN, "self.rnn = rnn_class(EMBED_DIM, UNITS)"),
                              ("_, state = self.rnn(vectors)", "_, state = self.rnn(vectors.transpose(0, 1))"),
                              (REF_FORWARD_END, "return self.head(h_n.squeeze(0))")]}),
    Crafted("sequential_parts", "two classes, nn.Sequential and ModuleDict parts, keyword arguments", expected=11,
            cells={"models": '''\
class LSTMClassifier(torch.nn.Module):
    """Embedding -> LSTM -> Linear."""

    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.Sequential(torch.nn.Embedding(num_embeddings=VOCAB, embedding_dim=EMBED_DIM))
        self.parts = torch.nn.ModuleDict({"rnn": torch.nn.LSTM(input_size=EMBED_DIM, hidden_size=UNITS,
                                                               batch_first=True)})
        self.head = torch.nn.Sequential(torch.nn.Linear(in_features=UNITS, out_features=1))

    def forward(self, x):
        _, (h_n, _c_n) = self.parts["rnn"](self.encoder(x.long()))
        return self.head(h_n[-1])


class GRUClassifier(torch.nn.Module):
    """Embedding -> GRU -> Linear."""

    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.Sequential(torch.nn.Embedding(num_embeddings=VOCAB, embedding_dim=EMBED_DIM))
        self.parts = torch.nn.ModuleDict({"rnn": torch.nn.GRU(input_size=EMBED_DIM, hidden_size=UNITS,
                                                              batch_first=True)})
        self.head = torch.nn.Sequential(torch.nn.Linear(in_features=UNITS, out_features=1))

    def forward(self, x):
        _, h_n = self.parts["rnn"](self.encoder(x.long()))
        return self.head(h_n[-1])
''' + BUILDERS.format(lstm="LSTMClassifier()", gru="GRUClassifier()")}),
    # ---------------------------------------------------------------- descriptions that lie (tamper-proof grading)
    wrong("lying_report", "64 units; lstm_course.grading._torch_report patched in the kernel to describe a correct "
          "32-unit decoy", 5, cells={"models": LYING_REPORT}, alone="patches the course package, which every test uses"),
    wrong("patched_torch_nn", "torch.nn.LSTM replaced in the kernel by a subclass named LSTM whose h_n is doubled",
          5, edits={"models": [("class ReviewClassifier(torch.nn.Module):",
                                PATCHED_TORCH_NN + "\n\nclass ReviewClassifier(torch.nn.Module):")]},
          alone="patches torch.nn, which every model shares"),
    # ---------------------------------------------------------------- training loop
    wrong("no_zero_grad", "optimizer.zero_grad() forgotten: gradients add up from batch to batch", 9,
          edits={"training_loop": [("            optimizer.zero_grad()\n", "")]}),
    wrong("no_step", "optimizer.step() forgotten: the weights never change", 8,
          edits={"training_loop": [("            optimizer.step()\n", "")]}),
    wrong("no_history", "train_model forgets to return its history", 8,
          edits={"training_loop": [("    return history\n", "")]}),
    wrong("epochs_global", "range(EPOCHS) instead of the epochs argument", 9,
          edits={"training_loop": [("for _ in range(epochs):", "for _ in range(EPOCHS):")]}),
    Crafted("loop_dataloader", "TensorDataset + DataLoader(shuffle=True), labels unsqueezed, sizes weighted",
            expected=11, cells={"training_loop": '''\
def train_model(model, x_train, y_train, x_val, y_val, epochs, batch_size):
    """Trains model with Adam and BCEWithLogitsLoss; returns {"loss": [...], "val_loss": [...], "val_accuracy": [...]}."""
    data = torch.utils.data.TensorDataset(torch.from_numpy(np.asarray(x_train, dtype=np.int64)),
                                          torch.from_numpy(np.asarray(y_train, dtype=np.float32)))
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = torch.nn.BCEWithLogitsLoss()
    x_val = torch.from_numpy(np.asarray(x_val, dtype=np.int64))
    y_val = torch.from_numpy(np.asarray(y_val, dtype=np.float32)).unsqueeze(1)  # (n, 1) like the logits
    history = {"loss": [], "val_loss": [], "val_accuracy": []}
    for epoch in range(epochs):
        model.train()
        total, seen = 0.0, 0
        for xb, yb in loader:
            logits = model(xb)  # (batch, 1)
            loss = criterion(logits, yb.unsqueeze(1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
            seen += len(xb)
        model.eval()
        with torch.no_grad():
            logits = model(x_val)
            history["val_loss"].append(criterion(logits, y_val).item())
            history["val_accuracy"].append((torch.sigmoid(logits).round() == y_val).float().mean().item())
        history["loss"].append(total / seen)
    return history
'''}),
]
