"""Is the sandbox kernelspec written safely when worker threads start kernels at the same time?"""

from __future__ import annotations

import json
import threading

from autograder import sandbox


def test_concurrent_install_kernelspec(tmp_path):
    """Do 16 threads installing the kernelspec at once all succeed and leave one valid kernel.json?"""
    errors: list[BaseException] = []
    barrier = threading.Barrier(16)

    def install() -> None:
        try:
            barrier.wait()
            for i in range(50):  # 50 fresh folders, each written by all threads at about the same time
                sandbox.install_kernelspec(tmp_path / f"jupyter{i}")
        except BaseException as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=install) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    kernels = sandbox.install_kernelspec(tmp_path / "jupyter0")
    spec = json.loads((kernels / sandbox.KERNEL_NAME / "kernel.json").read_text())
    assert spec["interrupt_mode"] == "message"
    leftovers = [p.name for p in (kernels / sandbox.KERNEL_NAME).iterdir() if p.name != "kernel.json"]
    assert not leftovers
