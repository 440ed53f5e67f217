"""Catalogue of char_generation_torch submissions (16 autograded points: clean text 1, maps 2, dataset 3, encode 1,
char model 2, training loop 2, sample 2, generate 1 + generate with the better model 1, better model 1).

A bug costs its own test and every test that reads what it made. generate is graded with the student's own
sample, so a sample that ignores its rng costs generate's draws too (13).

How the hidden tests see a PyTorch model (they run in the trusted checker): model(x) runs the student's forward in
evaluation mode, so the tests compare it with the Linear of h_n[-1] computed from the rebuilt LSTM and Linear, and
where the dropout sits is read from `dropout_check`, what a copy of the model with p = 1 computes in training mode
(a locked cell): on the last hidden state it leaves only the Linear's bias. The training loop is compared step by
step with a reference loop on `loop_twin`, a copy whose dropout has p = 0 (dropout's random masks would make any
two right loops differ). generate runs in the student's kernel with the model in the mode the notebook left it:
the locked training cell ends with model_char.train(), so a generate without model.eval() writes with dropout on.

Decisions, measured on the fast data (612 characters, 512 windows; 30 full-batch Adam steps):
- Targets are class indices, int64 (N,): the notebook asks for them. One-hot float targets are accepted by
  CrossEntropyLoss since torch 1.10 as class probabilities and give the same losses (3.8876 -> 2.9049 in 30
  steps, against 3.8875 -> 2.9049 with indices), with n_vocab times the memory, so the model trains: only the
  dataset test is lost (13). int32 targets are refused by CrossEntropyLoss ("expected target dtype to be Long"):
  the dataset test asks for int64 (13; the reference loop casts with .long(), so the rest passes).
- softmax in forward fed to CrossEntropyLoss (log-softmax of a softmax): the model test is lost (its output is not
  the logits). The loop itself is right: the training-loop test, which compares step by step only when the forward
  is the asked one, then checks that the loss falls on one batch, and it does, slowly (3.89 -> 3.75 in 30 steps,
  against 3.89 -> 2.90 with logits; the model's own cross-entropy -log p(target) after them is 8.58): 14.
- batch_first forgotten (the batch read as 100-step time) and h_n without [-1] give logits of the wrong shape: the
  model test is lost and the training cell fails on the loss's shapes, so the loop test goes too (12).
- Dropout left out, on the logits or on the inputs: the model test (one torch.nn.Dropout(0.2), and dropout_check
  equal to the Linear's bias) is lost, nothing else (14). Functional dropout (F.dropout in forward) is not what the
  notebook asks (a Dropout module, its p read by the tests) and loses the model test the same way.
- model.eval() forgotten in generate: the fast model is nearly untrained (top probability 0.025) and its greedy
  text is all spaces with or without dropout (dropout changed it in 1 of 20 runs), so the greedy test alone would
  not see it. The draws see it: one sampled character with 60 seeds at T = 0.25 differs from what sample draws
  from the model's evaluation-mode probabilities in 3 to 9 of the 60 (10 runs; at most 1 is tolerated for float
  rounding), and two 100-character texts with the same seeded rng differ (9 runs of 10); the greedy test on the
  untrained better model (an Embedding makes every character count) sees it too: 14.
- torch.no_grad() missing in generate (with detach before numpy): right, only slower (16).
- softmax twice in generate: greedy is unchanged (softmax keeps the order) but the draws flatten (30 % of the
  seeded draws differ at T = 1): generate's draws are lost (15). Softmax forgotten (logits given to sample as
  probabilities): the same (15).
- generate that never slides its window, or ignores the encode it is given: the fast model_char writes spaces
  whatever its window, so these are caught by the greedy test with model_better (encode_ids), one of generate's
  two points (15). The checker cannot pass a PyTorch stand-in model of its own to a student's function (only
  grading.TableModel, which returns NumPy probabilities, not logits), so the window-sensitive model must be one the
  notebook builds.
- output[-1] of a steps-first LSTM, Dropout and Linear in an nn.Sequential, parts in a ModuleDict, h_n.squeeze(0),
  a DataLoader loop with size-weighted losses are right (16).
"""

from make_submissions import Crafted, Part

REF_FORWARD_END = "return self.head(self.dropout(h_n[-1]))  # (batch, n_vocab)"
REF_LSTM = "self.lstm = torch.nn.LSTM(1, UNITS, batch_first=True)"
REF_PROBS = "probs = torch.softmax(logits[0], dim=-1).numpy()  # (n_vocab,)"

SAMPLING_NO_GRAD = '''\
def sample(probs, temperature=0.0, rng=None):
    """Index drawn from probs sharpened by the temperature; argmax when temperature <= 0."""
    probs = np.asarray(probs, dtype=np.float64).ravel()
    if temperature <= 0:
        return int(np.argmax(probs))
    rng = np.random.default_rng() if rng is None else rng
    logits = np.log(np.maximum(probs, 1e-300)) / temperature
    logits -= logits.max()
    p = np.exp(logits)
    return int(rng.choice(len(p), p=p / p.sum()))


def generate(model, seed_text, length, encode, temperature=0.0, rng=None):
    """The `length` characters the model writes after seed_text."""
    model.eval()
    text = seed_text
    for _ in range(length):
        x = torch.from_numpy(np.asarray(encode(text[-len(seed_text):])))
        p = torch.nn.functional.softmax(model(x), dim=1).detach().numpy()[0]
        text += int_to_char[sample(p, temperature=temperature, rng=rng)]
    return text[len(seed_text):]
'''

MODELS_OTHER_STYLE = '''\
class CharLSTM(torch.nn.Module):
    """LSTM(UNITS) on scaled characters -> Dropout(0.2) on the last hidden state -> Linear(UNITS, n_vocab): logits."""

    def __init__(self, n_vocab):
        super().__init__()
        self.rnn = torch.nn.LSTM(input_size=1, hidden_size=UNITS)  # (steps, batch, features), PyTorch's default
        self.out = torch.nn.Sequential(torch.nn.Dropout(p=0.2), torch.nn.Linear(in_features=UNITS, out_features=n_vocab))

    def forward(self, x):
        output, _ = self.rnn(x.float().permute(1, 0, 2))  # (steps, batch, UNITS)
        return self.out(output[-1])  # the last step's output is h_n[-1] for one layer, one direction


def build_char_model(n_vocab):
    return CharLSTM(n_vocab)
'''

BETTER_OTHER_STYLE = '''\
class BetterCharLSTM(torch.nn.Module):
    """Embedding(n_vocab, 32) on integer windows -> LSTM(UNITS) -> Dropout(0.2) -> Linear(UNITS, n_vocab): logits."""

    def __init__(self, n_vocab):
        super().__init__()
        self.parts = torch.nn.ModuleDict({
            "embed": torch.nn.Embedding(num_embeddings=n_vocab, embedding_dim=32),
            "rnn": torch.nn.LSTM(input_size=32, hidden_size=UNITS, batch_first=True),
            "drop": torch.nn.Dropout(0.2),
            "out": torch.nn.Linear(UNITS, n_vocab),
        })

    def forward(self, x):
        output, (h_n, c_n) = self.parts["rnn"](self.parts["embed"](x.long()))
        return self.parts["out"](self.parts["drop"](h_n.squeeze(0)))


def build_better_model(n_vocab):
    return BetterCharLSTM(n_vocab)
'''

LOOP_DATALOADER = '''\
def train_model(model, X, y, epochs, batch_size):
    """Trains model with Adam and CrossEntropyLoss on mini-batches; returns {"loss": [one float per epoch]}."""
    data = torch.utils.data.TensorDataset(torch.from_numpy(np.asarray(X, dtype=np.float32)),
                                          torch.from_numpy(np.asarray(y, dtype=np.int64)))
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = torch.nn.CrossEntropyLoss()
    history = {"loss": []}
    for epoch in range(epochs):
        model.train()
        total, seen = 0.0, 0
        for xb, yb in loader:
            logits = model(xb)  # (batch, n_vocab)
            loss = criterion(logits, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
            seen += len(xb)
        history["loss"].append(total / seen)
    return history
'''

TEXT_FOOTER_ONLY = '''\
def clean_text(raw):
    """The book without the Gutenberg header/footer, lower-cased."""
    end = raw.find("*** END OF")
    if end >= 0:
        raw = raw[:end]
    return raw.strip().lower()


text = clean_text(raw)
chars = sorted(set(text))
char_to_int = {c: i for i, c in enumerate(chars)}
int_to_char = {i: c for i, c in enumerate(chars)}
n_vocab = len(chars)
print(f"{len(text):,} characters, {n_vocab} distinct:", "".join(chars))
'''


def wrong(student, why, expected, edits=None, cells=None, alone=""):
    return Crafted(student, why, edits=edits or {}, cells=cells or {}, expected=expected, alone=alone)


def right(student, why, edits=None, cells=None):
    return Crafted(student, why, edits=edits or {}, cells=cells or {}, expected=16)


#: independent parts (tests/make_submissions.py packs one crafted submission of each into a graded notebook): the
#: tests compare each answer with a reference computed from the student's own text, maps, data and model. Packed
#: runs showed what reaches further: the training loop's test runs on the student's data and model (a loop without
#: zero_grad passed beside other mistakes), and generate runs the better model too (generate_better)
PARTS = [Part(("text",), ("test_clean_text", "test_char_maps")),
         Part(("dataset", "char_model", "training_loop"), ("test_dataset", "test_encode_scaled", "test_char_model",
                                                           "test_training_loop")),
         Part(("sampling", "better_model"), ("test_sample", "test_generate", "test_better_model",
                                             "test_generate_better"))]

CATALOGUE = [
    # ------------------------------------------------------------------ Parts 1 and 2 (framework-neutral but the targets)
    wrong("header_kept", "cuts the footer by hand, keeps the Gutenberg header", 15, cells={"text": TEXT_FOOTER_ONLY}),
    wrong("targets_one_hot", "one-hot float targets (Keras' format), the loop passes them to CrossEntropyLoss as "
          "class probabilities", 13,
          edits={"dataset": [("y = ids[seq_length:]  # (n,) int64 class indices",
                              "y = np.eye(n_vocab, dtype=np.float32)[ids[seq_length:]]  # (n, n_vocab) one-hot")],
                 "training_loop": [("torch.as_tensor(y).long()", "torch.as_tensor(y)")]}),
    wrong("targets_int32", "int32 targets (the loop casts them to long)", 13,
          edits={"dataset": [("y = ids[seq_length:]  #", "y = ids[seq_length:].astype(np.int32)  #")]}),
    # ------------------------------------------------------------------ Part 3: the model (2) and its loop (2)
    wrong("softmax_in_forward", "torch.softmax in forward, fed to CrossEntropyLoss (which applies log-softmax again)",
          14, edits={"char_model": [(REF_FORWARD_END, "return torch.softmax(self.head(self.dropout(h_n[-1])), dim=-1)")]}),
    wrong("batch_first_forgotten", "torch.nn.LSTM(1, UNITS) on (batch, steps, 1): reads the batch as time", 12,
          edits={"char_model": [(REF_LSTM, "self.lstm = torch.nn.LSTM(1, UNITS)")]}),
    wrong("h_n_without_index", "head(dropout(h_n)) without [-1]: logits (1, batch, n_vocab)", 12,
          edits={"char_model": [(REF_FORWARD_END, "return self.head(self.dropout(h_n))")]}),
    wrong("no_dropout", "the Dropout module is left out", 14,
          edits={"char_model": [("        self.dropout = torch.nn.Dropout(0.2)\n", ""),
                                (REF_FORWARD_END, "return self.head(h_n[-1])")]}),
    wrong("dropout_on_logits", "Dropout(0.2) applied to the Linear's output (the logits)", 14,
          edits={"char_model": [(REF_FORWARD_END, "return self.dropout(self.head(h_n[-1]))")]}),
    wrong("dropout_on_inputs", "Dropout(0.2) applied to the input windows", 14,
          edits={"char_model": [("self.lstm(x.float())", "self.lstm(self.dropout(x.float()))"),
                                (REF_FORWARD_END, "return self.head(h_n[-1])")]}),
    wrong("no_zero_grad", "optimizer.zero_grad() forgotten: gradients add up from batch to batch", 14,
          edits={"training_loop": [("            optimizer.zero_grad()\n", "")]}),
    # ------------------------------------------------------------------ Part 4: sample (2) and generate (2)
    wrong("eval_forgotten", "generate never calls model.eval(): dropout stays on while the model writes", 14,
          edits={"sampling": [("    model.eval()  # dropout off\n", "")]},
          alone="how far dropout moves the draws depends on the model it samples from (another part's answer)"),
    wrong("softmax_twice", "generate applies the softmax twice (a flatter distribution)", 15,
          edits={"sampling": [(REF_PROBS, "probs = torch.softmax(torch.softmax(logits[0], dim=-1), dim=-1).numpy()")]}),
    wrong("softmax_forgotten", "generate passes the logits to sample as if they were probabilities", 15,
          edits={"sampling": [(REF_PROBS, "probs = logits[0].numpy()")]}),
    wrong("sample_global_random", "sample draws with np.random.choice, ignoring rng", 13,
          edits={"sampling": [("return int(rng.choice(len(p), p=p / p.sum()))",
                               "return int(np.random.choice(len(p), p=p / p.sum()))")]}),
    wrong("generate_no_slide", "generate never slides its window: predicts from the seed every time", 15,
          edits={"sampling": [("            window = window[1:] + ch\n", "")]}),
    wrong("generate_ignores_encode", "generate always calls encode_scaled, whatever encode it is given", 15,
          edits={"sampling": [("model(torch.as_tensor(encode(window)))", "model(torch.as_tensor(encode_scaled(window)))")]}),
    # ------------------------------------------------------------------ Part 5: the better model (1)
    wrong("better_embedding_64", "Embedding(n_vocab, 64) instead of 32 (and the LSTM reading 64)", 15,
          edits={"better_model": [("torch.nn.Embedding(n_vocab, 32)", "torch.nn.Embedding(n_vocab, 64)"),
                                  ("torch.nn.LSTM(32, UNITS, batch_first=True)", "torch.nn.LSTM(64, UNITS, batch_first=True)")]}),
    # ------------------------------------------------------------------ right answers in other styles
    right("generate_without_no_grad", "generate without torch.no_grad() (detach before numpy), F.softmax on the whole "
          "output, the window re-cut from the text written so far", cells={"sampling": SAMPLING_NO_GRAD}),
    right("models_other_style", "steps-first LSTM with a permute and output[-1], Dropout and Linear in an nn.Sequential, "
          "the better model's parts in a ModuleDict with h_n.squeeze(0)",
          cells={"char_model": MODELS_OTHER_STYLE, "better_model": BETTER_OTHER_STYLE}),
    right("loop_dataloader", "TensorDataset + DataLoader(shuffle=True), losses weighted by batch size",
          cells={"training_loop": LOOP_DATALOADER}),
]
