"""OutputCollector: every iopub message counts against the hard cap, and the kept outputs stay within the keep limit.

No kernel: messages are built as a hostile kernel would send them (the batch in test_adversarial_sandbox.py sends
them from real sandboxed kernels).
"""

from __future__ import annotations

import json

from autograder.kernel import OutputCollector

KEEP = 100_000
BIG = 5_000_000


def msg(kind: str, **content) -> dict:
    return {"msg_type": kind, "content": content, "header": {"msg_type": kind}, "parent_header": {}, "metadata": {}}


def kept_size(outputs) -> int:
    return sum(len(json.dumps(o)) for o in outputs)


def error(value: str, tb_lines: int = 1) -> dict:
    return msg("error", ename="ValueError", evalue=value, traceback=[f"ValueError: {value}"] * tb_lines)


def test_error_values_count_and_are_kept_as_a_stub():
    """Do 20 errors of 5 MB count 200 MB received, and keep one short stub, not 100 MB?"""
    c = OutputCollector(KEEP, None)
    for i in range(20):
        c.add(error(f"{i}:" + "E" * BIG))
    assert c.received >= 20 * 2 * BIG
    outs = c.finish()
    errors = [o for o in outs if o["output_type"] == "error"]
    assert len(errors) == 1 and errors[0]["evalue"].startswith("19:")  # the latest: why the cell failed
    assert kept_size(outs) < KEEP


def test_small_errors_are_kept_whole():
    """Is an ordinary error kept with its traceback?"""
    c = OutputCollector(KEEP, None)
    c.add(error("bad value", tb_lines=3))
    outs = c.finish()
    assert outs[0]["evalue"] == "bad value" and len(outs[0]["traceback"]) == 3


def test_display_metadata_counts():
    """Does huge metadata of a tiny display count and get dropped from the kept outputs?"""
    c = OutputCollector(KEEP, None)
    for _ in range(10):
        c.add(msg("display_data", data={"text/plain": "x"}, metadata={"m": "M" * BIG}, transient={}))
    assert c.received >= 10 * BIG
    assert kept_size(c.finish()) < KEEP


def test_every_mime_type_and_transient_count():
    """Do all MIME types of a bundle and its transient data count, not only the first?"""
    c = OutputCollector(KEEP, None)
    c.add(msg("display_data", data={f"application/x-{j}": "D" * 1_000_000 for j in range(8)}, metadata={},
              transient={"display_id": "T" * 1_000_000}))
    assert c.received >= 9_000_000
    assert kept_size(c.finish()) < KEEP


def test_execute_result_metadata_counts():
    c = OutputCollector(KEEP, None)
    c.add(msg("execute_result", data={"text/plain": "r"}, metadata={"text/plain": {"m": "M" * BIG}},
              execution_count=1))
    assert c.received >= BIG and kept_size(c.finish()) < KEEP


def test_updates_and_other_messages_count_but_are_not_kept():
    """Do update_display_data, comm messages and unknown kinds count against the cap without being kept?"""
    c = OutputCollector(KEEP, None)
    c.add(msg("update_display_data", data={"text/plain": "U" * BIG}, metadata={}, transient={"display_id": "a"}))
    c.add(msg("comm_msg", comm_id="c", data={"d": "C" * BIG}))
    c.add(msg("made_up_kind", blob="B" * BIG))
    assert c.received >= 3 * BIG
    assert c.finish() == []


def test_stream_still_truncated_and_sentinel_seen():
    """Is stream output still cut at the keep limit with the sentinel seen beyond it?"""
    c = OutputCollector(KEEP, "NONCE123")
    c.add(msg("stream", name="stdout", text="x" * (2 * KEEP)))
    c.add(msg("stream", name="stdout", text="\nNONCE123\n"))
    outs = c.finish()
    assert c.sentinel_seen and c.received >= 2 * KEEP
    assert sum(len(o.get("text", "")) for o in outs if o["name"] == "stdout") <= KEEP


def test_kept_never_exceeds_keep_by_more_than_a_stub():
    """Mixed floods: is the kept total at most keep plus one error stub?"""
    c = OutputCollector(KEEP, None)
    for i in range(50):
        c.add(msg("stream", name="stdout", text="s" * 30_000))
        c.add(msg("display_data", data={"text/plain": "d" * 30_000}, metadata={"m": "m" * 30_000}, transient={}))
        c.add(error("e" * 30_000, tb_lines=2))
    assert c.kept <= KEEP + 2 * OutputCollector.ERROR_STUB
    assert c.received >= 50 * (30_000 + 60_000 + 90_000)
