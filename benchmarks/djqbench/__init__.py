"""djq's benchmark suite: djq against dj-queue on one PostgreSQL server, interleaved.

Entry point: ``benchmarks/bench.py`` (see ``benchmarks/README.md``).
"""
