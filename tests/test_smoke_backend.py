from django.tasks.base import TaskResultStatus

from tests import tasks


def test_enqueue_then_result_is_ready(alias, backend):
    result = tasks.add.using(backend=alias).enqueue(2, 3)
    assert result.status == TaskResultStatus.READY
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.READY
    assert fetched.args == [2, 3]
