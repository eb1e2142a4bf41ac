from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Health, readiness and worker checks: what operators and load balancers ask of a node.
    The top of the stack: it may look at any app, and none imports it."""

    name = "ops"
    verbose_name = "Operations"
