"""The operations layer: what the admin, HTTP endpoints, CLI and TUI may call.

Reads return frozen dataclasses; writes are named, idempotent verbs that
take the backend alias first. Front ends never touch models, SQL or the
engine directly; this layer never imports the runtime.
"""
