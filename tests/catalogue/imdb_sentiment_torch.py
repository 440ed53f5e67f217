"""Catalogue of imdb_sentiment_torch submissions (18 autograded points: pad_front 2, sequences 2, basic_model 3,
training_loop 2, dropout_model 1, stacked_model 2, bidirectional_model 2, glove_model 2, glove_frozen 1,
accuracy 1; the 4 written answers are graded by hand).

Wrong ones carry one realistic bug each and must lose points; right ones are other valid styles and must keep
full marks. Every model test reads the rebuilt modules (settings, weight shapes, counts from the shapes,
requires_grad) and compares the student's forward, run in evaluation mode, with what the rebuilt Embedding, LSTM(s)
and Linear compute in the asked architecture (lstm_course.checks.torch_text_logits).

Decisions:
- batch_first forgotten in the basic model: the LSTM reads the batch as time and returns 500 rows for 3 reviews;
  the basic model, the training (the loss's shapes do not match, so no history) and the accuracy are lost (12).
- Dropout: torch.nn.LSTM's own `dropout` acts only between stacked layers, so a one-layer LSTM(dropout=0.2) drops
  nothing (PyTorch warns): it loses the dropout point, as does a wrong rate. The test asks for torch.nn.Dropout
  modules because a module's rate can be read in the checker; where the student applies them cannot be seen in
  evaluation mode (the checker calls the model in evaluation mode, where dropout is the identity), and the notebook
  says so. A Dropout of rate 0 (one class for every model) is no dropout and is accepted in the other models.
- Stacked: one LSTM with num_layers=3 and three chained one-layer modules are both right; the counts are read per
  layer from the weight shapes (torch_recurrent_layers), so both give three layers of 8,448. h_n[0] (the BOTTOM
  layer's final state) is wrong: the forward comparison catches it.
- Bidirectional: the head must read both directions' FINAL states. output[:, -1] is wrong: its backward half has
  read only the last word (measured on an untrained model and five front-padded reviews: the logits differ by up to
  0.09, the test's tolerance is 1e-5 + 1e-4 relative). h_n[-1] alone with a Linear(32, 1) is wrong (a head of 32
  inputs), and h_n.reshape(-1, 64) without moving the direction axis mixes the reviews of a batch (0.16).
  The ORDER of the two halves: the test could tell (the swapped order differs by 0.20 with the same head), but it
  should not. torch.cat([h_n[-1], h_n[-2]]) is the same family of models with the head's weights permuted, trained
  from scratch from an initialisation that treats every input alike, so no behaviour makes it wrong; the test
  accepts the forward in either order. Halves taken from `output` (forward at the last step, backward at the
  first) are the final states and are right.
- GloVe: the table must hold glove_matrix (to 1e-6) and not require gradients; freeze=False loses the model test
  (trainable counts) and the frozen test (training changed the table): 15. A frozen table that is not
  glove_matrix (never copied in, or the rows normalised) loses only the model test (16): it stayed frozen.
  padding_idx does not change what a frozen table computes and is not read; nn.Embedding + weight.copy_ (under
  no_grad) + requires_grad_(False) is as right as from_pretrained.
- A sigmoid in the basic model's forward (a double sigmoid with BCEWithLogitsLoss) loses the basic model; the loop
  test can then only check that the loss falls, which it does (15). zero_grad() forgotten loses the loop test only.
"""

from make_submissions import Crafted, Part

REF_BASIC_LSTM = "self.lstm = torch.nn.LSTM(32, 32, batch_first=True)\n        self.head = torch.nn.Linear(32, 1)"
REF_BASIC_RETURN = "return self.head(h_n[-1])  # (batch, 1)"
REF_BI_RETURN = "return self.head(torch.cat([h_n[-2], h_n[-1]], dim=1))  # (batch, 64) -> (batch, 1)"
REF_BI_FIND = "_, (h_n, _) = self.lstm(self.embedding(x.long()))  # h_n: (2, batch, 32): forward, backward"
REF_GLOVE_EMBEDDING = "self.embedding = torch.nn.Embedding.from_pretrained(torch.tensor(matrix), freeze=True)"


def wrong(student: str, why: str, expected: float, **kw) -> Crafted:
    return Crafted(student, why, expected=expected, **kw)


PAD_POST = [("tail = list(seq)[-seq_len:] if seq_len > 0 else []", "tail = list(seq)[:seq_len]"),
            ("out[k, seq_len - len(tail):] = tail", "out[k, :len(tail)] = tail")]

STACKED_THREE_MODULES = '''\
class StackedLSTM(torch.nn.Module):
    """Embedding(VOCAB, 32) -> three stacked LSTM layers of 32 -> Linear(32, 1) on the top layer's final state."""

    def __init__(self):
        super().__init__()
        self.embedding = torch.nn.Embedding(VOCAB, 32)
        self.lstms = torch.nn.ModuleList([torch.nn.LSTM(32, 32, batch_first=True) for _ in range(3)])
        self.head = torch.nn.Linear(32, 1)

    def forward(self, x):
        sequence = self.embedding(x.long())  # (batch, SEQ_LEN, 32)
        for lstm in self.lstms:
            sequence, (h_n, _) = lstm(sequence)  # each LSTM reads the whole output of the one below
        return self.head(h_n[-1])


def build_stacked_model():
    return StackedLSTM()
'''

GLOVE_COPY = '''\
class GloveLSTM(torch.nn.Module):
    def __init__(self, matrix):
        super().__init__()
        self.embedding = torch.nn.Embedding(VOCAB, 50, padding_idx=0)
        with torch.no_grad():
            self.embedding.weight.copy_(torch.from_numpy(np.asarray(matrix, dtype=np.float32)))
        self.embedding.weight.requires_grad_(False)
        self.lstm = torch.nn.LSTM(input_size=50, hidden_size=32, batch_first=True)
        self.head = torch.nn.Linear(in_features=32, out_features=1)

    def forward(self, x):
        output, _ = self.lstm(self.embedding(x.long()))
        return self.head(output[:, -1])  # one layer, one direction: the last step's output is h_n[-1]


def build_glove_model(matrix):
    return GloveLSTM(matrix)
'''

#: One configurable class for every model, built with keyword arguments; a Dropout of rate 0 where no dropout is
#: asked, padding_idx=0 in every embedding, steps-first LSTMs with a transpose.
ONE_CLASS = '''\
class ReviewLSTM(torch.nn.Module):
    """Embedding -> Dropout -> LSTM (layers, directions) -> Dropout -> Linear, for every model of this notebook."""

    def __init__(self, table=None, layers=1, bidirectional=False, rate=0.0):
        super().__init__()
        if table is None:
            self.embedding = torch.nn.Embedding(num_embeddings=VOCAB, embedding_dim=32, padding_idx=0)
        else:
            self.embedding = torch.nn.Embedding.from_pretrained(torch.tensor(table), freeze=True, padding_idx=0)
        self.drop = torch.nn.Dropout(p=rate)
        self.rnn = torch.nn.LSTM(input_size=self.embedding.embedding_dim, hidden_size=32, num_layers=layers,
                                 bidirectional=bidirectional)
        self.out = torch.nn.Linear(in_features=64 if bidirectional else 32, out_features=1)

    def forward(self, x):
        steps_first = self.drop(self.embedding(x.long())).transpose(0, 1)  # (SEQ_LEN, batch, features)
        _, (h_n, _) = self.rnn(steps_first)
        final = torch.cat([h_n[-2], h_n[-1]], dim=1) if self.rnn.bidirectional else h_n[-1]
        return self.out(self.drop(final))
'''

ONE_CLASS_BUILDERS = {
    "basic": "def build_basic_model():\n    return ReviewLSTM()\n",
    "dropout": "def build_dropout_model():\n    return ReviewLSTM(rate=0.2)\n",
    "stacked": "def build_stacked_model():\n    return ReviewLSTM(layers=3)\n",
    "bidirectional": "def build_bidirectional_model():\n    return ReviewLSTM(bidirectional=True)\n",
    "glove_model": "def build_glove_model(matrix):\n    return ReviewLSTM(table=matrix)\n",
}

LOOP_DATALOADER = '''\
def train_model(model, x_train, y_train, x_val, y_val, epochs, batch_size):
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
'''

#: independent parts (tests/make_submissions.py packs one crafted submission of each into a graded notebook): each
#: builder's tests read its own model only; the training loop's test runs the loop on the basic model (a loop
#: without zero_grad passed beside a wrong basic model in a packed run), so the two are one part
PARTS = [Part(("pad_front",), ("test_pad_front", "test_sequences")),
         Part(("basic", "training_loop"), ("test_basic_model", "test_training_loop", "test_accuracy")),
         Part(("dropout",), ("test_dropout_model",)),
         Part(("stacked",), ("test_stacked_model",)),
         Part(("bidirectional",), ("test_bidirectional_model",)),
         Part(("glove_model",), ("test_glove_model", "test_glove_frozen"))]

CATALOGUE = [
    # ---------------------------------------------------------------- Part 1 (its tests are the Keras edition's)
    wrong("post_padding", "pads at the end and keeps the first SEQ_LEN words", 14, edits={"pad_front": PAD_POST}),
    # ---------------------------------------------------------------- Part 2: basic model and loop
    wrong("batch_first_forgotten", "torch.nn.LSTM(32, 32) on (batch, steps, features): reads the batch as time", 12,
          edits={"basic": [(REF_BASIC_LSTM, REF_BASIC_LSTM.replace(", batch_first=True", ""))]}),
    wrong("double_sigmoid", "torch.sigmoid in the basic model's forward, and BCEWithLogitsLoss applies another", 15,
          edits={"basic": [(REF_BASIC_RETURN, "return torch.sigmoid(self.head(h_n[-1]))")]}),
    wrong("no_zero_grad", "optimizer.zero_grad() forgotten: gradients add up from batch to batch", 16,
          edits={"training_loop": [("            optimizer.zero_grad()\n", "")]}),
    Crafted("loop_dataloader", "TensorDataset + DataLoader(shuffle=True), labels unsqueezed, sizes weighted, the "
            "validation in one batch", expected=18, cells={"training_loop": LOOP_DATALOADER}),
    # ---------------------------------------------------------------- Part 3: dropout
    wrong("lstm_dropout_argument", "torch.nn.LSTM(32, 32, dropout=0.2) with one layer and no Dropout module (drops "
          "nothing)", 17, edits={"dropout": [
              ("        self.dropout_in = torch.nn.Dropout(0.2)\n", ""),
              ("        self.dropout_out = torch.nn.Dropout(0.2)\n", ""),
              ("torch.nn.LSTM(32, 32, batch_first=True)", "torch.nn.LSTM(32, 32, batch_first=True, dropout=0.2)"),
              ("vectors = self.dropout_in(self.embedding(x.long()))", "vectors = self.embedding(x.long())"),
              ("return self.head(self.dropout_out(h_n[-1]))", "return self.head(h_n[-1])")]}),
    wrong("dropout_rate_0_5", "Dropout(0.5) after the LSTM where 0.2 is asked", 17,
          edits={"dropout": [("self.dropout_out = torch.nn.Dropout(0.2)", "self.dropout_out = torch.nn.Dropout(0.5)")]}),
    # ---------------------------------------------------------------- Part 4: stacked
    wrong("stacked_two_layers", "num_layers=2 where three layers are asked", 16,
          edits={"stacked": [("num_layers=3", "num_layers=2")]}),
    wrong("stacked_bottom_state", "h_n[0], the BOTTOM layer's final state, read by the head", 16,
          edits={"stacked": [("return self.head(h_n[-1])", "return self.head(h_n[0])")]}),
    Crafted("stacked_three_modules", "three one-layer LSTM modules in a ModuleList, chained by their output",
            expected=18, cells={"stacked": STACKED_THREE_MODULES}),
    # ---------------------------------------------------------------- Part 5: bidirectional
    wrong("bidi_output_last_step", "output[:, -1]: the backward half has read only the last word", 16,
          edits={"bidirectional": [(REF_BI_FIND, "output, _ = self.lstm(self.embedding(x.long()))"),
                                   (REF_BI_RETURN, "return self.head(output[:, -1])")]}),
    wrong("bidi_h_n_last_only", "h_n[-1] only (the backward direction) and a Linear(32, 1)", 16,
          edits={"bidirectional": [("self.head = torch.nn.Linear(64, 1)", "self.head = torch.nn.Linear(32, 1)"),
                                   (REF_BI_RETURN, "return self.head(h_n[-1])")]}),
    wrong("bidi_reshape_mixes_reviews", "h_n.reshape(-1, 64) without moving the direction axis: mixes the reviews", 16,
          edits={"bidirectional": [(REF_BI_RETURN, "return self.head(h_n.reshape(-1, 64))")]}),
    Crafted("bidi_backward_first", "torch.cat([h_n[-1], h_n[-2]]): the backward direction's half first", expected=18,
            edits={"bidirectional": [(REF_BI_RETURN, "return self.head(torch.cat([h_n[-1], h_n[-2]], dim=1))")]}),
    Crafted("bidi_output_halves", "the final states taken from output: forward at the last step, backward at the "
            "first", expected=18,
            edits={"bidirectional": [(REF_BI_FIND, "output, _ = self.lstm(self.embedding(x.long()))"),
                                     (REF_BI_RETURN, "return self.head(torch.cat([output[:, -1, :32], output[:, 0, 32:]], "
                                                     "dim=1))")]}),
    # ---------------------------------------------------------------- Part 6: GloVe
    wrong("glove_not_frozen", "from_pretrained(..., freeze=False): the table is trained", 15,
          edits={"glove_model": [("freeze=True", "freeze=False")]}),
    wrong("glove_never_copied", "a frozen nn.Embedding(VOCAB, 50) that was never given the matrix", 16,
          edits={"glove_model": [(REF_GLOVE_EMBEDDING, "self.embedding = torch.nn.Embedding(VOCAB, 50)\n"
                                                       "        self.embedding.weight.requires_grad_(False)")]}),
    wrong("glove_normalised", "the GloVe rows scaled to unit length before freezing: not glove_matrix", 16,
          edits={"glove_model": [("torch.tensor(matrix)", "torch.tensor(matrix / (np.linalg.norm(matrix, axis=1, "
                                                          "keepdims=True) + 1e-8))")]}),
    Crafted("glove_copy_requires_grad", "nn.Embedding(VOCAB, 50, padding_idx=0), weight.copy_ under no_grad, "
            "requires_grad_(False); output[:, -1] for one direction", expected=18, cells={"glove_model": GLOVE_COPY}),
    # ---------------------------------------------------------------- every model
    Crafted("one_class_for_all", "one configurable class for the five models: Dropout(p=0) where none is asked, "
            "padding_idx=0, steps-first LSTM with a transpose, keyword arguments", expected=18,
            cells={"basic": ONE_CLASS + "\n\n" + ONE_CLASS_BUILDERS["basic"],
                   **{g: b for g, b in ONE_CLASS_BUILDERS.items() if g != "basic"}}),
]
