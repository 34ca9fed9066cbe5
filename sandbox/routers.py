"""Keep the sandbox's tables in their own database, and nothing else there.

The sandbox stands in for Zendesk, so its data must never mix with the
product's: a query joining the two would work here and fail against the real
service.
"""

SANDBOX_DB = "sandbox"
SANDBOX_APP = "sandbox"


def _is_sandbox(model) -> bool:
    return model._meta.app_label == SANDBOX_APP


class SandboxRouter:
    def db_for_read(self, model, **hints):
        return SANDBOX_DB if _is_sandbox(model) else None

    def db_for_write(self, model, **hints):
        return SANDBOX_DB if _is_sandbox(model) else None

    def allow_relation(self, obj1, obj2, **hints):
        if _is_sandbox(obj1) != _is_sandbox(obj2):
            return False
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == SANDBOX_APP:
            return db == SANDBOX_DB
        if db == SANDBOX_DB:
            return False
        return None
