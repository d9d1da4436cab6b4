.PHONY: demo test lint

# Run the queue runtime on the embedded SQLite database with demo work.
demo:
	@scripts/bootstrap.sh demo
	.venv/bin/djq start

# The whole suite: SQLite, PostgreSQL and MariaDB, unit to end-to-end.
test:
	@scripts/bootstrap.sh
	.venv/bin/python -m pytest

lint:
	@scripts/bootstrap.sh
	.venv/bin/ruff check .
