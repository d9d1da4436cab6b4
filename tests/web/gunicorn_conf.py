"""gunicorn config for the embedding test: djq's hooks, workers recycled after a few requests."""

import os

from djq.contrib import gunicorn as djq_gunicorn

workers = 3
max_requests = 4
max_requests_jitter = 0
graceful_timeout = 30
timeout = 60


def post_fork(server, worker):
    djq_gunicorn.post_fork(server, worker, backend_alias=os.environ["DJQ_TEST_BACKEND"])


worker_exit = djq_gunicorn.worker_exit
