"""The djq operator dashboard inside Django's admin (registered by ``djq/admin.py``)."""
