"""The built-in Deployment actions (checks/kube_actions.py): the real kubernetes client against
the stand-in's apps/v1 endpoints (tui/demo/kubeapi_apps.py), dry run first."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from checks.kube_actions import RESTARTED_AT, KubeActionError, KubeActions
from checks.specs import KubeSpec
from tui.demo.kubeapi_standin import KubeApiStandin


@pytest.fixture
def cluster(tmp_path: Path):
    with KubeApiStandin(token="tok-123") as standin:
        standin.add_deployment("prod", "payments", replicas=2)
        standin.add_pod("prod", "payments-5d8f7c9b6-abcde", owner="payments")
        standin.add_pod("prod", "loner")
        kubeconfig = standin.write_kubeconfig(tmp_path / "config", namespace="prod")
        actions = KubeActions(KubeSpec(kubeconfig=kubeconfig))
        yield standin, actions
        actions.close()


def test_the_pods_deployment_is_found_through_its_replicaset(cluster):
    _, actions = cluster
    assert actions.deployment_of("prod", "payments-5d8f7c9b6-abcde") == "payments"
    assert actions.deployment_of("prod", "loner") is None


def test_restart_dry_run_changes_nothing_then_the_real_one_patches_the_template(cluster):
    standin, actions = cluster
    at = datetime(2026, 12, 3, 14, 0, tzinfo=timezone.utc)
    dry = actions.restart("prod", "payments", at, dry_run=True)
    assert dry.dry_run and "would restart all 2 pod(s)" in dry.summary and "generation 1 → 2" in dry.summary
    assert standin.patches == [] and len(standin.dry_runs) == 1
    assert RESTARTED_AT not in (standin.get_deployment("prod", "payments")["spec"]["template"]["metadata"]
                                .get("annotations") or {})
    done = actions.restart("prod", "payments", at, dry_run=False)
    assert not done.dry_run and done.generation == 2
    stored = standin.get_deployment("prod", "payments")
    assert stored["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT] == "2026-12-03T14:00:00+00:00"
    # Sent as kubectl sends it: a strategic merge patch, the dry run as ?dryRun=All.
    assert any(m == "PATCH" and "dryRun=All" in p for m, p in standin.request_log)


def test_scale_dry_run_then_for_real(cluster):
    standin, actions = cluster
    dry = actions.scale("prod", "payments", 5, dry_run=True)
    assert dry.summary == "would scale deployment prod/payments from 2 to 5 replicas"
    assert standin.get_deployment("prod", "payments")["spec"]["replicas"] == 2
    actions.scale("prod", "payments", 5, dry_run=False)
    assert standin.get_deployment("prod", "payments")["spec"]["replicas"] == 5
    with pytest.raises(KubeActionError, match="between 0 and"):
        actions.scale("prod", "payments", 100_000, dry_run=True)


def test_refusals_are_one_line(cluster, tmp_path: Path):
    standin, actions = cluster
    with pytest.raises(KubeActionError, match=r'deployments.apps "nope" not found \(404\)'):
        actions.restart("prod", "nope", datetime.now(timezone.utc), dry_run=True)
    standin.fail_next(403, message="deployments.apps is forbidden: cannot patch")
    with pytest.raises(KubeActionError, match=r"forbidden.*\(403\)"):
        actions.scale("prod", "payments", 3, dry_run=True)
    gone = KubeActions(KubeSpec(kubeconfig=standin.write_kubeconfig(tmp_path / "c2", server="http://127.0.0.1:9")))
    with pytest.raises(KubeActionError, match="cluster unreachable"):
        gone.deployment_of("prod", "loner")
    assert standin.patches == []


def test_the_stand_in_rolls_and_scales_the_pods_as_the_controllers_would(cluster):
    standin, actions = cluster

    def pods_of_payments():
        return sorted(n for ns, n in standin.pod_names() if n.startswith("payments-5d8f7c9b6-"))

    before = pods_of_payments()
    actions.restart("prod", "payments", datetime.now(timezone.utc), dry_run=True)
    assert pods_of_payments() == before                   # a dry run touches nothing
    actions.restart("prod", "payments", datetime.now(timezone.utc), dry_run=False)
    after = pods_of_payments()
    assert len(after) == 2 and not set(after) & set(before)   # every pod replaced, at the replica count
    actions.scale("prod", "payments", 4, dry_run=False)
    assert len(pods_of_payments()) == 4 and set(after) <= set(pods_of_payments())
    actions.scale("prod", "payments", 1, dry_run=False)
    assert len(pods_of_payments()) == 1
    assert ("prod", "loner") in standin.pod_names()
