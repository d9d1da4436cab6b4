"""The engine: the only code that moves a job from one state to another.

Below the operations layer (``djq.ops``) and beside the runtime, which
drives it: building new job rows, executing a claimed job, the one finish
that writes attempts back, recovery of dead processes' work, concurrency
slot upkeep, recurring firing and retention. It never imports ``djq.ops``.
"""
