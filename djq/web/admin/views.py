"""The admin dashboard's pages and actions.

Every page reads through :mod:`djq.web.source`; every action is a POST
(CSRF-protected by the admin site) that calls one operations verb. Viewing
needs ``djq.view_job`` (or ``djq.change_job``), acting needs
``djq.change_job``; superusers have both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from djq.exceptions import DjqError

from .. import source

VIEW_PERMISSIONS = ("djq.view_job", "djq.change_job")
CHANGE_PERMISSION = "djq.change_job"
PAGE_SIZE = 50

#: What each action does, and to which states it applies.
JOB_ACTIONS = {
    "retry": ("Retry", ("failed",)),
    "discard": ("Discard", ("ready", "scheduled", "blocked", "failed")),
    "enqueue_again": ("Enqueue again", source.STATES),
}
STATE_TITLES = {"ready": "Ready", "scheduled": "Scheduled", "blocked": "Blocked", "claimed": "Running",
                "failed": "Failed", "finished": "Finished", "discarded": "Discarded"}


def can_view(user) -> bool:
    return user.is_active and user.is_staff and any(user.has_perm(p) for p in VIEW_PERMISSIONS)


def can_change(user) -> bool:
    return user.is_active and user.is_staff and user.has_perm(CHANGE_PERMISSION)


class MethodNotAllowed(Exception):
    def __init__(self, allowed: tuple[str, ...]) -> None:
        self.allowed = allowed


def _methods(view):
    """Answer 405 for a method the view does not take (actions are POST only, pages GET only)."""

    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except MethodNotAllowed as exc:
            return HttpResponseNotAllowed(list(exc.allowed))

    wrapped.__name__ = getattr(view, "__name__", "view")
    wrapped.__qualname__ = getattr(view, "__qualname__", "view")
    return wrapped


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    width: float
    label: str


class Dashboard:
    """The dashboard's URLs and views, mounted under a ModelAdmin of the host's admin site."""

    def __init__(self, model_admin) -> None:
        self.model_admin = model_admin
        self.site = model_admin.admin_site
        opts = model_admin.model._meta
        self.prefix = f"{opts.app_label}_{opts.model_name}"

    # -- wiring ------------------------------------------------------------------------

    def urls(self) -> list:
        def wrap(view):
            return self.site.admin_view(_methods(view))

        p = self.prefix
        return [
            path("", wrap(self.index), name=f"{p}_changelist"),
            path("<str:backend>/", wrap(self.overview), name="djq_overview"),
            path("<str:backend>/queues/", wrap(self.queues), name="djq_queues"),
            path("<str:backend>/queues/<str:verb>/", wrap(self.queue_action), name="djq_queue_action"),
            path("<str:backend>/jobs/<str:state>/", wrap(self.jobs), name="djq_jobs"),
            path("<str:backend>/jobs/<str:state>/action/", wrap(self.jobs_action), name="djq_jobs_action"),
            path("<str:backend>/job/<int:job_id>/", wrap(self.job), name="djq_job"),
            path("<str:backend>/job/<int:job_id>/<str:verb>/", wrap(self.job_action), name="djq_job_action"),
            path("<str:backend>/recurring/", wrap(self.recurring), name="djq_recurring"),
            path("<str:backend>/recurring/<str:verb>/", wrap(self.recurring_action), name="djq_recurring_action"),
            path("<str:backend>/processes/", wrap(self.processes), name="djq_processes"),
            path("<str:backend>/semaphores/", wrap(self.semaphores), name="djq_semaphores"),
        ]

    def url(self, name: str, *args) -> str:
        return reverse(f"{self.site.name}:{name}", args=args)

    def _check(self, request: HttpRequest, backend: str | None = None, *, act: bool = False) -> None:
        allowed = ("POST",) if act else ("GET", "HEAD")
        if request.method not in allowed:
            raise MethodNotAllowed(allowed)
        if not can_view(request.user) or (act and not can_change(request.user)):
            raise PermissionDenied
        if backend is not None and not source.known_backend(backend):
            raise Http404(f"no djq backend {backend!r}")

    def render(self, request: HttpRequest, template: str, backend: str, section: str, title: str,
               **context) -> TemplateResponse:
        sections = [("overview", "Overview", self.url("djq_overview", backend)),
                    ("queues", "Queues", self.url("djq_queues", backend))]
        sections += [(f"jobs-{s}", STATE_TITLES[s], self.url("djq_jobs", backend, s)) for s in source.STATES]
        sections += [("recurring", "Recurring tasks", self.url("djq_recurring", backend)),
                     ("processes", "Processes", self.url("djq_processes", backend)),
                     ("semaphores", "Semaphores", self.url("djq_semaphores", backend))]
        backends = [(b, self.url("djq_overview", b)) for b in source.backends()]
        ctx = {
            **self.site.each_context(request), "title": title, "backend": backend, "section": section,
            "sections": sections, "backends": backends, "can_change": can_change(request.user),
            "opts": self.model_admin.model._meta, "dashboard_url": self.url("djq_overview", backend),
            "cap": source.COUNT_CAP,
            **context,
        }
        return TemplateResponse(request, f"djq/admin/{template}", ctx)

    def _done(self, request: HttpRequest, message: str, to: str, *, level=messages.SUCCESS) -> HttpResponse:
        messages.add_message(request, level, message, fail_silently=True)
        return HttpResponseRedirect(to)

    # -- pages -------------------------------------------------------------------------

    @staticmethod
    def _default_backend() -> str:
        names = source.backends()
        return "default" if "default" in names else names[0]

    def index(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        return HttpResponseRedirect(self.url("djq_overview", self._default_backend()))

    @staticmethod
    def chart(minutes: list[source.Minute], width: float = 600, height: float = 120) -> dict:
        """Bars for the last hour's finished jobs, with the failed ones stacked on them (oldest minute first)."""
        peak = max((m.finished + m.failed for m in minutes), default=0) or 1
        slot = width / max(len(minutes), 1)
        finished, failed = [], []
        for i, m in enumerate(minutes):
            h_done, h_bad = height * m.finished / peak, height * m.failed / peak
            label = f"{m.at:%H:%M} UTC: {m.finished} finished, {m.failed} failed"
            finished.append(Bar(i * slot + 1, height - h_done, h_done, slot - 2, label))
            failed.append(Bar(i * slot + 1, height - h_done - h_bad, h_bad, slot - 2, label))
        return {"finished": finished, "failed": failed, "width": width, "height": height, "peak": peak,
                "total_finished": sum(m.finished for m in minutes), "total_failed": sum(m.failed for m in minutes)}

    def overview(self, request: HttpRequest, backend: str) -> HttpResponse:
        self._check(request, backend)
        snap = source.fresh_snapshot(backend)
        ov = snap.overview
        kinds = [(k, {"alive": ov.processes.get(k, 0), "stale": ov.stale_processes.get(k, 0)})
                 for k in sorted({*ov.processes, *ov.stale_processes})]
        totals = [(s, STATE_TITLES[s], snap.totals.get(s, 0), self.url("djq_jobs", backend, s))
                  for s in ("ready", "scheduled", "blocked", "claimed", "failed") if s in snap.totals]
        return self.render(
            request, "overview.html", backend, "overview", f"djq · {backend}",
            snap=snap, totals=totals, oldest_ready=ov.oldest_ready_age, kinds=kinds,
            paused=list(ov.paused_queues), chart=self.chart(source.throughput(backend, snap)),
        )

    def queues(self, request: HttpRequest, backend: str) -> HttpResponse:
        self._check(request, backend)
        snap = source.fresh_snapshot(backend)
        workers = source.live_workers_by_queue(snap)
        rows = [(q, workers.get(q.name, 0)) for q in snap.queues]
        return self.render(request, "queues.html", backend, "queues", f"Queues · {backend}", rows=rows,
                           urls={v: self.url("djq_queue_action", backend, v) for v in ("pause", "resume", "clear")})

    def _query(self, request: HttpRequest, state: str, data=None) -> source.JobQuery:
        data = data if data is not None else request.GET
        return source.JobQuery(state=state, queue=data.get("queue", "").strip(),
                               task_path=data.get("task", "").strip(),
                               exception_class=data.get("exception", "").strip(), text=data.get("q", "").strip())

    @staticmethod
    def _filter_params(query: source.JobQuery) -> dict[str, str]:
        params = {"queue": query.queue, "task": query.task_path, "exception": query.exception_class,
                  "q": query.text}
        return {k: v for k, v in params.items() if v}

    def jobs(self, request: HttpRequest, backend: str, state: str) -> HttpResponse:
        self._check(request, backend)
        if state not in source.STATES:
            raise Http404(f"no job state {state!r}")
        query = self._query(request, state)
        try:
            page = source.job_page(backend, query, after=request.GET.get("after") or None,
                                   before=request.GET.get("before") or None, limit=PAGE_SIZE)
        except DjqError:  # a cursor from another listing (or edited by hand): start again
            return HttpResponseRedirect(f"{self.url('djq_jobs', backend, state)}?"
                                        f"{urlencode(self._filter_params(query))}")
        params = self._filter_params(query)
        base = self.url("djq_jobs", backend, state)
        newer = f"{base}?{urlencode({**params, 'before': page.previous_cursor})}" if page.previous_cursor else None
        older = f"{base}?{urlencode({**params, 'after': page.next_cursor})}" if page.next_cursor else None
        actions = [(key, label) for key, (label, states) in JOB_ACTIONS.items() if state in states]
        return self.render(
            request, "jobs.html", backend, f"jobs-{state}", f"{STATE_TITLES[state]} jobs · {backend}",
            state=state, state_title=STATE_TITLES[state], query=query, page=page, newer=newer, older=older,
            actions=actions, action_url=self.url("djq_jobs_action", backend, state),
            filter_params=params, cap=source.COUNT_CAP, first_page=not (request.GET.get("after")
                                                                         or request.GET.get("before")),
        )

    def jobs_action(self, request: HttpRequest, backend: str, state: str) -> HttpResponse:
        self._check(request, backend, act=True)
        if state not in source.STATES:
            raise Http404(f"no job state {state!r}")
        action = request.POST.get("action", "")
        if action not in JOB_ACTIONS or state not in JOB_ACTIONS[action][1]:
            raise Http404(f"no action {action!r} for {state} jobs")
        query = self._query(request, state, request.POST)
        back = f"{self.url('djq_jobs', backend, state)}?{urlencode(self._filter_params(query))}"
        scope = request.POST.get("scope", "selected")
        ids = tuple(sorted({int(i) for i in request.POST.getlist("ids") if i.isdigit()}))
        if scope == "selected" and not ids:
            return self._done(request, "Select some jobs first, or act on everything matching the filter.", back,
                              level=messages.WARNING)
        if scope == "matching":
            counted = source.match_count(backend, query)
            count, capped = int(counted), counted.capped
            ids = ()
        else:
            count, capped = len(ids), False
        label = JOB_ACTIONS[action][0]
        if request.POST.get("confirmed") != "yes":
            return self.render(
                request, "confirm_jobs.html", backend, f"jobs-{state}", f"{label} {STATE_TITLES[state].lower()} jobs?",
                state=state, state_title=STATE_TITLES[state], action=action, action_label=label, scope=scope,
                ids=ids, count=count, capped=capped, cap=source.COUNT_CAP, query=query,
                filters=self._filter_params(query), back=back,
            )
        try:
            if action == "retry":
                result = source.retry(backend, query, ids)
                text = f"Retried {result.changed} job{'s' if result.changed != 1 else ''}"
            elif action == "discard":
                result = source.discard(backend, query, ids)
                text = f"Discarded {result.changed} job{'s' if result.changed != 1 else ''}"
            else:
                new = source.enqueue_again_matching(backend, query, ids)
                text = f"Enqueued {len(new)} new job{'s' if len(new) != 1 else ''}"
                result = None
        except DjqError as exc:
            return self._done(request, f"Nothing changed: {exc}", back, level=messages.ERROR)
        if result is not None and result.skipped:
            text += f"; skipped {result.skipped} ({', '.join(f'{n} {why}' for why, n in result.reasons.items())})"
        return self._done(request, text + ".", back)

    def job(self, request: HttpRequest, backend: str, job_id: int) -> HttpResponse:
        self._check(request, backend)
        try:
            detail = source.job(backend, job_id)
        except DjqError as exc:
            raise Http404(str(exc)) from exc
        state = detail.job.state
        actions = [(key, label) for key, (label, states) in JOB_ACTIONS.items() if state in states]
        return self.render(
            request, "job.html", backend, f"jobs-{state}", f"Job {job_id} · {backend}", detail=detail,
            j=detail.job, state_title=STATE_TITLES.get(state, state), actions=actions,
            args=json.dumps(detail.args, indent=2, ensure_ascii=False),
            kwargs=json.dumps(detail.kwargs, indent=2, ensure_ascii=False),
            return_value=json.dumps(detail.return_value, indent=2, ensure_ascii=False),
            list_url=self.url("djq_jobs", backend, state),
            urls={v: self.url("djq_job_action", backend, job_id, v) for v in JOB_ACTIONS},
        )

    def job_action(self, request: HttpRequest, backend: str, job_id: int, verb: str) -> HttpResponse:
        self._check(request, backend, act=True)
        back = self.url("djq_job", backend, job_id)
        try:
            if verb == "retry":
                result = source.retry(backend, source.JobQuery(state="failed"), (job_id,))
                if not result.changed:
                    return self._done(request, f"Job {job_id} is not failed; nothing to retry.", back,
                                      level=messages.WARNING)
                return self._done(request, f"Retried job {job_id}.", back)
            if verb == "discard":
                detail = source.job(backend, job_id)
                result = source.discard(backend, source.JobQuery(state=detail.job.state), (job_id,))
                if not result.changed:
                    return self._done(request, f"Job {job_id} cannot be discarded ({detail.job.state}).", back,
                                      level=messages.WARNING)
                return self._done(request, f"Discarded job {job_id}.",
                                  self.url("djq_jobs", backend, detail.job.state))
            if verb == "enqueue_again":
                new_id = source.enqueue_again(backend, job_id)
                return self._done(request, f"Enqueued job {new_id}, a copy of job {job_id}.",
                                  self.url("djq_job", backend, new_id))
        except DjqError as exc:
            return self._done(request, f"Nothing changed: {exc}", back, level=messages.ERROR)
        raise Http404(f"no action {verb!r}")

    def queue_action(self, request: HttpRequest, backend: str, verb: str) -> HttpResponse:
        self._check(request, backend, act=True)
        name = request.POST.get("queue", "")
        back = self.url("djq_queues", backend)
        if not name:
            raise Http404("no queue named")
        try:
            if verb == "pause":
                change = source.pause_queue(backend, name)
                return self._done(request, change.message[:1].upper() + change.message[1:] + ".", back)
            if verb == "resume":
                change = source.resume_queue(backend, name)
                return self._done(request, change.message[:1].upper() + change.message[1:] + ".", back)
            if verb == "clear":
                if request.POST.get("confirmed") != "yes":
                    counted = source.match_count(backend, source.JobQuery(state="ready", queue=name))
                    count, capped = int(counted), counted.capped
                    return self.render(request, "confirm.html", backend, "queues", f"Clear queue {name}?",
                                       message=f"Discard {'more than ' if capped else ''}{count:,} ready "
                                               f"job{'s' if count != 1 else ''} of queue {name}?",
                                       detail="Only ready jobs are discarded; running, scheduled, blocked and "
                                              "failed jobs stay.",
                                       fields={"queue": name}, button="Yes, clear the queue", back=back)
                result = source.clear_queue(backend, name)
                return self._done(request, f"Cleared {name}: discarded {result.changed} ready "
                                           f"job{'s' if result.changed != 1 else ''}.", back)
        except DjqError as exc:
            return self._done(request, f"Nothing changed: {exc}", back, level=messages.ERROR)
        raise Http404(f"no action {verb!r}")

    def recurring(self, request: HttpRequest, backend: str) -> HttpResponse:
        self._check(request, backend)
        return self.render(request, "recurring.html", backend, "recurring", f"Recurring tasks · {backend}",
                           tasks=source.recurring(backend),
                           urls={v: self.url("djq_recurring_action", backend, v)
                                 for v in ("pause", "resume", "run", "unschedule")})

    def recurring_action(self, request: HttpRequest, backend: str, verb: str) -> HttpResponse:
        self._check(request, backend, act=True)
        key = request.POST.get("key", "")
        back = self.url("djq_recurring", backend)
        try:
            if verb == "pause":
                change = source.pause_recurring(backend, key)
                return self._done(request, change.message[:1].upper() + change.message[1:] + ".", back)
            if verb == "resume":
                change = source.resume_recurring(backend, key)
                return self._done(request, change.message[:1].upper() + change.message[1:] + ".", back)
            if verb == "run":
                job_id = source.run_recurring(backend, key)
                return self._done(request, f"Enqueued job {job_id} for {key}.", back)
            if verb == "unschedule":
                if request.POST.get("confirmed") != "yes":
                    return self.render(request, "confirm.html", backend, "recurring", f"Unschedule {key}?",
                                       message=f"Remove the recurring task {key}?",
                                       detail="Jobs it already enqueued stay. Static tasks from settings "
                                              "cannot be unscheduled; pause them instead.",
                                       fields={"key": key}, button="Yes, unschedule it", back=back)
                if source.unschedule_recurring(backend, key):
                    return self._done(request, f"Unscheduled {key}.", back)
                return self._done(request, f"{key} was not unscheduled: it is static (from settings) or unknown.",
                                  back, level=messages.WARNING)
        except DjqError as exc:
            return self._done(request, f"Nothing changed: {exc}", back, level=messages.ERROR)
        raise Http404(f"no action {verb!r}")

    def processes(self, request: HttpRequest, backend: str) -> HttpResponse:
        self._check(request, backend)
        snap = source.fresh_snapshot(backend)
        return self.render(request, "processes.html", backend, "processes", f"Processes · {backend}",
                           processes=snap.processes)

    def semaphores(self, request: HttpRequest, backend: str) -> HttpResponse:
        self._check(request, backend)
        snap = source.fresh_snapshot(backend)
        return self.render(request, "semaphores.html", backend, "semaphores", f"Semaphores · {backend}",
                           semaphores=snap.semaphores)
