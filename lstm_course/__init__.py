"""Helper package of the LSTM course."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

# Nothing heavy is imported here: TensorFlow/Keras and torch load only inside the functions that
# need them. Submodules load on first attribute access, so `import lstm_course as lc` followed by
# `lc.cells.lstm_forward(...)` works without importing every submodule up front.


def __getattr__(name: str) -> ModuleType:
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
