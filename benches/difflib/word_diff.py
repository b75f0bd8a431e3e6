#!/usr/bin/env python3
"""Times Python's difflib word diff on the inputs of the `diff` criterion bench.

This is the approach django-moderation uses for its HTML differences: split
each text with ``re.split(r'(\\W+)')`` (words and the separators between
them), then ask ``difflib.SequenceMatcher`` for its opcodes. The time measured
covers tokenizing both texts and computing the opcodes, the same work the Rust
bench measures for ``TextDiff::new(old, new, Granularity::Word, ...)``.

Inputs: the bench writes them, deterministically, to
``$TMPDIR/moderation-diff-bench/`` (``/tmp`` when TMPDIR is unset)::

    cargo bench -p moderation-benches --bench diff -- --warm-up-time 1 --measurement-time 3
    python3 benches/difflib/word_diff.py            # or: word_diff.py DIR

For each pair it prints the median, minimum and maximum of its runs (200 for
the 10 KB pair, a single one for the 1 MB pair, which takes many minutes:
difflib's matching is far from linear on long token lists whose words repeat),
plus the number of tokens and changed opcodes as a sanity check that a real
diff was computed. Each result is printed as soon as it is known.
"""

import difflib
import os
import re
import statistics
import sys
import tempfile
import time

PAIRS = [("prose_10k", 200), ("prose_1m", 1)]
SPLIT = re.compile(r"(\W+)")


def word_diff(old, new):
    """Tokenize like django-moderation and return SequenceMatcher's opcodes."""
    old_tokens = SPLIT.split(old)
    new_tokens = SPLIT.split(new)
    matcher = difflib.SequenceMatcher(None, old_tokens, new_tokens)
    return old_tokens, matcher.get_opcodes()


def fmt(seconds):
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.1f} µs"


def main():
    directory = (
        sys.argv[1]
        if len(sys.argv) > 1
        else os.path.join(tempfile.gettempdir(), "moderation-diff-bench")
    )
    for name, runs in PAIRS:
        try:
            with open(os.path.join(directory, f"{name}_old.txt"), encoding="utf-8") as f:
                old = f.read()
            with open(os.path.join(directory, f"{name}_new.txt"), encoding="utf-8") as f:
                new = f.read()
        except FileNotFoundError:
            sys.exit(
                f"missing {name} inputs in {directory}: run the `diff` bench first "
                "(cargo bench -p moderation-benches --bench diff)"
            )
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            tokens, opcodes = word_diff(old, new)
            times.append(time.perf_counter() - started)
        changed = sum(1 for tag, *_ in opcodes if tag != "equal")
        print(
            f"difflib word diff {name}: median {fmt(statistics.median(times))} "
            f"(min {fmt(min(times))}, max {fmt(max(times))}, {runs} runs; "
            f"{len(old)} bytes, {len(tokens)} tokens, {changed} changed opcodes)",
            flush=True,
        )


if __name__ == "__main__":
    main()
