"""Time the data loaders: IMDB first (cold cache) and cached loads, vectorizing, Gutenberg texts and GloVe.

Run from the repository root: `.venv/bin/python benchmarks/bench_loaders.py`
Uses LSTM_COURSE_DATA (default: ../shared/data when it exists) and a temporary cache folder,
so the user's cache is neither used nor touched. Goals: first IMDB load <= 30 s, cached <= 2 s.
Prints wall and CPU time of each step and the load average (the course machines are shared).
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
REPO = Path(__file__).resolve().parents[1]
if not os.environ.get("LSTM_COURSE_DATA") and (REPO.parent / "shared" / "data").is_dir():
    os.environ["LSTM_COURSE_DATA"] = str(REPO.parent / "shared" / "data")
sys.path.insert(0, str(REPO))

from lstm_course import glove, gutenberg, imdb, vectorize  # noqa: E402


def timed(label: str, function, *args, **kwargs):
    """Run function(*args, **kwargs), print its wall and CPU time, return its result.

    On a shared machine the wall time grows with the load; the CPU time (all threads of this
    process) is close to what the wall time would be on an idle single core.
    """
    start, start_cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    print(f"{label:<56s} {wall:7.2f} s wall {cpu:7.2f} s CPU", flush=True)
    return result


def main() -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, load average {load:.1f}")
    print(f"mirror: {os.environ.get('LSTM_COURSE_DATA', '(none: downloads)')}")
    with tempfile.TemporaryDirectory(prefix="bench_loaders_") as cache:
        data = timed("load_imdb, first (cold cache: parse + store)", imdb.load_imdb, cache=cache, progress=False)
        timed("load_imdb, cached", imdb.load_imdb, cache=cache, progress=False)
        print(f"  {data!r}")

        import keras  # noqa: F401  (import time is not the vectorizer's)

        vectorizer = timed("make_vectorizer (adapt on 25,000 train reviews)", vectorize.make_vectorizer, data.train_texts)
        timed("vectorize 50,000 reviews (10,000 words, 500 steps, pre)", vectorize.vectorize,
              data.train_texts + data.test_texts, vectorizer)
        sequences = timed("load_imdb_sequences, first (parsed data cached)", vectorize.load_imdb_sequences, cache=cache)
        timed("load_imdb_sequences, cached", vectorize.load_imdb_sequences, cache=cache)
        print(f"  x_train {sequences[0].shape} {sequences[0].dtype}, vocabulary {len(sequences[4]):,}")

        timed("load_heart_of_darkness", gutenberg.load_heart_of_darkness, cache=cache)
        timed("load_tiny_shakespeare", gutenberg.load_tiny_shakespeare, cache=cache)
        vectors = timed("load_glove (6B 50d, packaged)", glove.load_glove)
        _, coverage = timed("embedding_matrix (IMDB vocabulary)", glove.embedding_matrix, sequences[4], vectors)
        print(f"  GloVe coverage of the 10,000-word IMDB vocabulary: {coverage:.1%}")


if __name__ == "__main__":
    main()
