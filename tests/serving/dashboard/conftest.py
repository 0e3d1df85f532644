"""The dashboard's tests use the REST API tests' fixtures (a registry, apps, clients)."""

from serving.api.conftest import client, holder, make_client, model_dirs, registry, second_model

__all__ = ["client", "holder", "make_client", "model_dirs", "registry", "second_model"]
