"""The operations layer: the one way the backend, runtime, CLI, TUI, admin and HTTP act on the queue.

Reads return frozen dataclasses; writes are named verbs. Front ends never
touch models or SQL directly.
"""
