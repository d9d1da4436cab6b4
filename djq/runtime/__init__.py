"""The runtime: a supervisor and the workers, dispatchers and scheduler it runs."""
