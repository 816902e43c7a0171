"""The operations console: stuck sagas, failure groups, the dashboard and audited repairs.

Mounted inside the Django admin by `sagaops.admin.SagaAdmin.get_urls`.
"""
