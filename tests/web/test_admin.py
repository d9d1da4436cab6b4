"""The admin dashboard in headless Chromium against a real server, on SQLite and PostgreSQL.

Every page and every action, and who may see and do what: an anonymous
visitor, staff without djq permissions, staff with ``view_job`` only, and
staff with ``change_job``.
"""

from __future__ import annotations

import pytest

from djq.ops import jobs as ops_jobs
from djq.ops import queues as ops_queues
from djq.ops import recurring as ops_recurring
from tests.web.data import seed

pytestmark = [pytest.mark.vendors("sqlite", "postgresql"), pytest.mark.e2e]


def base(alias: str) -> str:
    return f"/admin/djq/job/{alias}"


def states(alias: str, ids) -> dict[int, str]:
    return {i: ops_jobs.get_job(alias, i).job.state for i in ids}


def post_from_page(browser, path: str, data: dict) -> int:
    """POST ``data`` to ``path`` from the current page with its CSRF cookie (a forged form); the status."""
    return browser.driver.execute_async_script(
        """const [path, data, done] = arguments;
        const token = (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";
        const body = new URLSearchParams(data);
        fetch(path, {method: "POST", headers: {"X-CSRFToken": token}, body, redirect: "manual",
                     credentials: "same-origin"})
          .then(r => done(r.status)).catch(e => done(String(e)));""", path, data)


def test_the_admin_index_links_the_dashboard_without_reordering_apps(alias, browser, request):
    browser.login("admin")
    browser.open("/admin/")
    browser.screenshot(f"admin-index-{request.node.callspec.id}")
    captions = [c.text for c in browser.all("#content-main .module caption")]
    assert captions == sorted(captions, key=str.lower), captions
    assert any("djq" in c.lower() for c in captions)
    browser.click("a[href='/admin/djq/job/']")
    assert browser.path == "/admin/djq/job/default/"
    assert "Throughput, last hour" in browser.text()


def test_anonymous_visitors_are_sent_to_the_login_page(alias, browser):
    browser.open(f"{base(alias)}/")
    assert browser.path.startswith("/admin/login/")
    assert post_from_page(browser, f"{base(alias)}/queues/pause/", {"queue": "email"}) in (302, 0, "opaqueredirect")


def test_staff_without_permission_gets_403_everywhere(alias, browser):
    seed(alias)
    browser.login("nobody")
    for page in ("/", "/queues/", "/jobs/failed/", "/recurring/", "/processes/", "/semaphores/"):
        browser.open(base(alias) + page)
        assert "403" in browser.driver.title or "Forbidden" in browser.text(), page
    browser.open("/admin/")
    assert post_from_page(browser, f"{base(alias)}/queues/pause/", {"queue": "email"}) == 403
    assert not ops_queues.is_paused(alias, "email")


def test_view_permission_shows_pages_without_actions(alias, browser):
    seeded = seed(alias)
    browser.login("viewer")
    browser.open(f"{base(alias)}/queues/")
    assert "email" in browser.text("#djq-queues")
    assert not browser.all("#djq-queues button")
    browser.open(f"{base(alias)}/jobs/failed/")
    assert not browser.all("#djq-apply-matching") and not browser.all("input[name=ids]")
    browser.open(f"{base(alias)}/job/{seeded.failed_email[0]}/")
    assert "disk full" in browser.text("#djq-attempts") and not browser.all("#djq-job-actions")
    assert post_from_page(browser, f"{base(alias)}/queues/pause/", {"queue": "email"}) == 403
    assert post_from_page(browser, f"{base(alias)}/job/{seeded.failed_email[0]}/retry/", {}) == 403
    assert not ops_queues.is_paused(alias, "email")
    assert states(alias, seeded.failed_email) == dict.fromkeys(seeded.failed_email, "failed")


def test_actions_are_post_only_and_csrf_protected(alias, browser):
    seeded = seed(alias)
    browser.login("operator")
    browser.open(f"{base(alias)}/queues/pause/")
    assert "HTTP ERROR 405" in browser.text()
    assert not ops_queues.is_paused(alias, "email")
    browser.open(f"{base(alias)}/queues/")
    status = browser.driver.execute_async_script(
        """const done = arguments[arguments.length - 1];
        fetch(arguments[0], {method: "POST", body: new URLSearchParams({queue: "email"}), redirect: "manual"})
          .then(r => done(r.status));""", f"{base(alias)}/queues/pause/")
    assert status == 403  # no CSRF token
    assert not ops_queues.is_paused(alias, "email")
    assert post_from_page(browser, f"{base(alias)}/job/{seeded.failed_email[0]}/retry/", {}) in (0, 302)
    assert states(alias, [seeded.failed_email[0]])[seeded.failed_email[0]] == "ready"


def test_overview(alias, browser, request):
    seed(alias)
    browser.login("operator")
    browser.open(f"{base(alias)}/")
    totals = {card.get_attribute("data-state"): card.text.split("\n")[0]
              for card in browser.all("#djq-totals a.djq-card")}
    assert totals["failed"] == "3" and totals["ready"] == "5" and totals["scheduled"] == "1"
    assert browser.text("#djq-oldest") != "\u2013"
    assert browser.all("svg.djq-chart rect.finished")
    assert "3 finished" in browser.text("#djq-throughput")
    assert "worker" in browser.text("#djq-process-kinds") and "dispatcher" in browser.text("#djq-process-kinds")
    assert browser.text("#djq-paused") == "reports"
    assert "email" in browser.text("#djq-queues")
    browser.screenshot(f"overview-{request.node.callspec.id}")


def test_queues_pause_resume_and_clear(alias, browser):
    seeded = seed(alias)
    browser.login("operator")
    browser.open(f"{base(alias)}/queues/")
    browser.click("tr[data-queue=email] button[name=pause]")
    assert ops_queues.is_paused(alias, "email")
    assert "Paused email." in browser.messages()
    browser.click("tr[data-queue=email] button[name=resume]")
    assert not ops_queues.is_paused(alias, "email")
    browser.click("tr[data-queue=email] button[name=clear]")
    assert "Discard 3 ready jobs of queue email?" in browser.text("#djq-confirm")
    browser.click("#djq-confirm-no")
    assert set(states(alias, seeded.ready_email).values()) == {"ready"}
    browser.click("tr[data-queue=email] button[name=clear]")
    browser.click("#djq-confirm-yes")
    assert "Cleared email: discarded 3 ready jobs." in browser.messages()
    assert ops_jobs.list_jobs(ops_jobs.JobFilter(backend_alias=alias, states=("ready",), queue="email")) == []
    assert set(states(alias, seeded.failed_email).values()) == {"failed"}  # clear takes ready jobs only


def test_job_lists_filter_and_page(alias, browser, request):
    from tests import tasks
    from tests.cli.conftest import enqueue, work

    many = [enqueue(alias, tasks.add, i, 1, queue="bulk") for i in range(120)]
    work(alias)
    seed(alias)
    browser.login("viewer")
    browser.open(f"{base(alias)}/jobs/finished/?queue=bulk")
    assert browser.text("#djq-count").startswith("120 finished jobs")
    first = [int(r.get_attribute("data-job")) for r in browser.all("#djq-job-rows tr[data-job]")]
    assert first == sorted(many, reverse=True)[:50]
    browser.click("#djq-older")
    second = [int(r.get_attribute("data-job")) for r in browser.all("#djq-job-rows tr[data-job]")]
    assert second == sorted(many, reverse=True)[50:100]
    browser.click("#djq-older")
    third = [int(r.get_attribute("data-job")) for r in browser.all("#djq-job-rows tr[data-job]")]
    assert third == sorted(many, reverse=True)[100:] and not browser.all("#djq-older")
    browser.open(f"{base(alias)}/jobs/failed/")
    assert browser.text("#djq-count").startswith("3 failed jobs")
    browser.screenshot(f"jobs-failed-{request.node.callspec.id}")
    for field, text, expected in (("queue", "email", 2), ("exception", "ValueError", 3),
                                  ("task", "tests.tasks.fail", 3), ("q", "timeout", 1), ("q", "no-such", 0)):
        browser.open(f"{base(alias)}/jobs/failed/")
        browser.css(f"#djq-filter input[name={field}]").send_keys(text)
        browser.click("#djq-filter button[type=submit]")
        assert len(browser.all("#djq-job-rows tr[data-job]")) == expected, (field, text)
    browser.open(f"{base(alias)}/jobs/ready/?queue=email")
    assert len(browser.all("#djq-job-rows tr[data-job]")) == 3


def test_failed_job_detail_and_its_actions(alias, browser, request):
    seeded = seed(alias)
    browser.login("operator")
    job_id = seeded.failed_email[0]
    browser.open(f"{base(alias)}/job/{job_id}/")
    assert "Failed" in browser.text("#djq-job-title")
    assert '"disk full"' in browser.text("#djq-args")
    assert browser.text("#djq-kwargs") == "{}" and browser.text("#djq-return") == "null"
    attempts = browser.text("#djq-attempts")
    assert "builtins.ValueError: disk full" in attempts and "cli-test-worker" in attempts
    assert "Traceback (most recent call last)" in browser.text(".djq-traceback")
    browser.screenshot(f"failed-job-{request.node.callspec.id}")
    browser.click("#djq-job-retry")
    assert f"Retried job {job_id}." in browser.messages()
    assert states(alias, [job_id])[job_id] == "ready"
    browser.click("#djq-job-enqueue_again")
    [message] = browser.messages()
    new_id = int(message.split()[2].rstrip(","))
    assert ops_jobs.get_job(alias, new_id).args == ["disk full"] and browser.path == f"{base(alias)}/job/{new_id}/"
    browser.open(f"{base(alias)}/job/{seeded.ready_email[0]}/")
    assert '"to": "ops@example.com"' in browser.text("#djq-kwargs")
    browser.click("#djq-job-discard")
    assert f"Discarded job {seeded.ready_email[0]}." in browser.messages()
    with pytest.raises(Exception, match="no job"):
        ops_jobs.get_job(alias, seeded.ready_email[0])


def test_bulk_retry_selected_and_matching(alias, browser, request):
    from tests import tasks
    from tests.cli.conftest import enqueue, work

    seeded = seed(alias)
    more = [enqueue(alias, tasks.fail, "disk full", queue="email") for _ in range(4)]
    work(alias)
    browser.login("operator")
    browser.open(f"{base(alias)}/jobs/failed/")
    browser.css(f"input[name=ids][value='{seeded.failed_reports[0]}']").click()
    browser.css(f"input[name=ids][value='{more[0]}']").click()
    browser.click("#djq-apply-selected")
    assert "Retry 2 failed jobs?" in browser.text("#djq-confirm")
    browser.click("#djq-confirm-yes")
    assert "Retried 2 jobs." in browser.messages()
    assert states(alias, [seeded.failed_reports[0], more[0]]) == {seeded.failed_reports[0]: "ready", more[0]: "ready"}
    browser.open(f"{base(alias)}/jobs/failed/?queue=email&exception=ValueError")
    browser.click("#djq-apply-matching")
    confirm = browser.text("#djq-confirm")
    assert "Retry 5 failed jobs?" in confirm and "queue: email" in confirm and "exception class: ValueError" in confirm
    browser.screenshot(f"bulk-retry-confirmation-{request.node.callspec.id}")
    browser.click("#djq-confirm-no")
    assert set(states(alias, seeded.failed_email + more[1:]).values()) == {"failed"}
    browser.click("#djq-apply-matching")
    browser.click("#djq-confirm-yes")
    assert "Retried 5 jobs." in browser.messages()
    assert set(states(alias, seeded.failed_email + more[1:]).values()) == {"ready"}
    assert browser.text("#djq-count").startswith("0 failed jobs")


def test_bulk_discard_and_enqueue_again(alias, browser):
    seeded = seed(alias)
    browser.login("operator")
    browser.open(f"{base(alias)}/jobs/failed/")
    browser.css("#djq-action option[value=enqueue_again]").click()
    browser.css(f"input[name=ids][value='{seeded.failed_email[0]}']").click()
    browser.click("#djq-apply-selected")
    assert "Enqueue again 1 failed job?" in browser.text("#djq-confirm")
    browser.click("#djq-confirm-yes")
    assert "Enqueued 1 new job." in browser.messages()
    browser.open(f"{base(alias)}/jobs/failed/?queue=email")
    browser.css("#djq-action option[value=discard]").click()
    browser.click("#djq-apply-matching")
    assert "Discard 2 failed jobs?" in browser.text("#djq-confirm")
    browser.click("#djq-confirm-yes")
    assert "Discarded 2 jobs." in browser.messages()
    failed = ops_jobs.list_jobs(ops_jobs.JobFilter(backend_alias=alias, states=("failed",)))
    assert [j.id for j in failed] == seeded.failed_reports
    browser.open(f"{base(alias)}/jobs/scheduled/")
    browser.css("#djq-action option[value=discard]").click()
    browser.css(f"input[name=ids][value='{seeded.scheduled[0]}']").click()
    browser.click("#djq-apply-selected")
    browser.click("#djq-confirm-yes")
    assert "Discarded 1 job." in browser.messages()
    browser.open(f"{base(alias)}/jobs/failed/")
    browser.click("#djq-apply-selected")
    assert any("Select some jobs first" in m for m in browser.messages())


def test_recurring_tasks_pause_resume_run_and_unschedule(alias, browser):
    seed(alias)
    browser.login("operator")
    browser.open(f"{base(alias)}/recurring/")
    assert "At 03:00" in browser.text("tr[data-key=nightly-report]")
    assert not browser.all("tr[data-key=nightly-report] button[name=unschedule]")  # static
    browser.click("tr[data-key=nightly-report] button[name=pause]")
    assert ops_recurring.get_recurring(alias, "nightly-report").paused
    assert "Paused nightly-report." in browser.messages()
    browser.click("tr[data-key=nightly-report] button[name=resume]")
    assert not ops_recurring.get_recurring(alias, "nightly-report").paused
    browser.click("tr[data-key=hourly-sync] button[name=run]")
    [message] = browser.messages()
    job_id = int(message.split()[2])
    assert ops_jobs.get_job(alias, job_id).args == [2, 3]
    browser.click("tr[data-key=hourly-sync] button[name=unschedule]")
    assert "Remove the recurring task hourly-sync?" in browser.text("#djq-confirm")
    browser.click("#djq-confirm-yes")
    assert "Unscheduled hourly-sync." in browser.messages()
    assert [t.key for t in ops_recurring.list_recurring(alias)] == ["nightly-report"]


def test_processes_and_semaphores(alias, browser):
    seed(alias)
    browser.login("viewer")
    browser.open(f"{base(alias)}/processes/")
    rows = browser.text("#djq-processes")
    assert "worker-1" in rows and "dispatcher-1" in rows and "alive" in rows
    browser.open(f"{base(alias)}/semaphores/")
    assert "pair:acct-1" in browser.text("#djq-semaphores")


def test_unknown_backend_and_job_are_404(alias, browser):
    browser.login("admin")
    browser.open("/admin/djq/job/no-such-backend/")
    assert "Not Found" in browser.text() or "404" in browser.driver.title
    browser.open(f"{base(alias)}/job/999999999/")
    assert "Not Found" in browser.text() or "404" in browser.driver.title
