"""TensorFlow's C++ start-up lines are recognised and kept out of students' feedback."""

from __future__ import annotations

import nbformat

import autograder_toy as toy
from autograder.feedback import write_feedback
from autograder.template import load_template
from lstm_course.framework_logs import is_log_line, strip_log_lines, strip_notebook_logs

# Lines as TensorFlow 2.21 writes them on import on a machine without a GPU.
TF_LINES = [
    "I0000 00:00:1795982307.406377    3963 cudart_stub.cc:31] Could not find cuda drivers on your machine, "
    "GPU will not be used.",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "E0000 00:00:1795982309.034481    3963 cuda_dnn.cc:8310] Unable to register cuDNN factory",
    "W1129 20:01:02.123456   12 tensorflow/core/framework/op_kernel.cc:1857] OP_REQUIRES failed",
    "2026-11-29 20:01:02.5: I tensorflow/core/util/port.cc:153] oneDNN custom operations are on. You may see "
    "slightly different numerical results",
]
STUDENT_LINES = [
    "UserWarning: my own warning",
    "I0000 is how I name my variables",
    "Epoch 1/2 - loss: 0.69",
]


def test_each_framework_line_is_recognised_and_nothing_else():
    assert all(is_log_line(line) for line in TF_LINES)
    assert not any(is_log_line(line) for line in STUDENT_LINES)


def test_strip_keeps_other_lines_in_order():
    text = "\n".join([TF_LINES[0], STUDENT_LINES[0], TF_LINES[1], STUDENT_LINES[2]]) + "\n"
    assert strip_log_lines(text) == f"{STUDENT_LINES[0]}\n{STUDENT_LINES[2]}\n"


def test_strip_notebook_drops_emptied_streams_only():
    cell = nbformat.v4.new_code_cell("import tensorflow")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="\n".join(TF_LINES) + "\n"),
        nbformat.v4.new_output("stream", name="stdout", text=TF_LINES[0] + "\n"),  # stdout is the student's
        nbformat.v4.new_output("stream", name="stderr", text=TF_LINES[0] + "\nmine\n"),
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    assert strip_notebook_logs(nb) == len(TF_LINES) + 1
    assert [(o.name, o.text) for o in cell.outputs] == [("stdout", TF_LINES[0] + "\n"), ("stderr", "mine\n")]


def test_feedback_html_has_no_framework_lines(tmp_path):
    course = toy.make_course(tmp_path / "course")
    template = load_template(course, "toy")
    nb = toy.submission(course)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", name="stderr",
                                           text="\n".join(TF_LINES + STUDENT_LINES) + "\n")]
    out = write_feedback(tmp_path / "fb.html", nb, template, "alice", 1, 2, "graded", "", {})
    html = out.read_text()
    assert "cudart_stub" not in html and "absl::InitializeLog" not in html and "oneDNN" not in html
    assert "my own warning" in html and "Epoch 1/2" in html
