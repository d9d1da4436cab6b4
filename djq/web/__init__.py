"""djq's web surfaces: ``stats.json``, Prometheus ``metrics`` (``djq.urls``) and the admin dashboard.

Everything here reads through :mod:`djq.web.source` and acts through
``djq.ops`` verbs; nothing touches models or SQL.
"""
