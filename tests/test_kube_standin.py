"""The API stand-in speaks the wire format the real kubernetes client expects."""
from __future__ import annotations

import http.client
import json
import time

import pytest

from tui.demo.kubeapi_standin import KubeApiStandin


@pytest.fixture
def standin():
    with KubeApiStandin(token="tok", bookmark_interval=0.2) as s:
        yield s


def _get(s: KubeApiStandin, path: str, token: str | None = "tok") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=5)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    conn.request("GET", path, headers=headers)
    return conn.getresponse()


def _events(resp: http.client.HTTPResponse, until) -> list[dict]:
    """Read watch events line by line until ``until(events)`` or the stream ends."""
    events: list[dict] = []
    while not until(events):
        line = resp.readline()
        if not line:
            break
        events.append(json.loads(line))
    return events


def test_list_shape_and_auth(standin):
    standin.add_pod("default", "web-1", init_containers=("init",))
    standin.add_pod("other", "db-1")
    resp = _get(standin, "/api/v1/namespaces/default/pods")
    body = json.loads(resp.read())
    assert resp.status == 200 and body["kind"] == "PodList"
    assert int(body["metadata"]["resourceVersion"]) == standin.resource_version
    [pod] = body["items"]
    assert "kind" not in pod                      # list items carry no kind, like the real API
    assert pod["metadata"]["name"] == "web-1" and pod["spec"]["nodeName"] == "node-1"
    cs = pod["status"]["containerStatuses"][0]
    assert cs["ready"] and "running" in cs["state"] and cs["restartCount"] == 0
    assert pod["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    assert len(json.loads(_get(standin, "/api/v1/pods").read())["items"]) == 2

    denied = _get(standin, "/api/v1/pods", token="nope")
    status = json.loads(denied.read())
    assert denied.status == 401 and status["kind"] == "Status" and status["code"] == 401


def test_watch_streams_events_bookmarks_and_gone(standin):
    standin.add_pod("default", "web-1")
    rv = standin.resource_version
    resp = _get(standin, f"/api/v1/namespaces/default/pods?watch=true&resourceVersion={rv}"
                         "&allowWatchBookmarks=true&timeoutSeconds=5")
    assert resp.status == 200 and resp.getheader("Transfer-Encoding") == "chunked"
    standin.restart_container("default", "web-1", reason="OOMKilled", then="CrashLoopBackOff")
    standin.add_pod("other", "not-watched")
    standin.delete_pod("default", "web-1")
    events = _events(resp, lambda ev: any(e["type"] == "DELETED" for e in ev))
    kinds = [e["type"] for e in events if e["type"] != "BOOKMARK"]
    assert kinds == ["MODIFIED", "DELETED"]
    mod = events[[e["type"] for e in events].index("MODIFIED")]["object"]
    assert mod["kind"] == "Pod"
    cs = mod["status"]["containerStatuses"][0]
    assert cs["restartCount"] == 1 and cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert cs["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert cs["lastState"]["terminated"]["exitCode"] == 137
    bookmark = _events(resp, lambda ev: any(e["type"] == "BOOKMARK" for e in ev))[-1]
    assert int(bookmark["object"]["metadata"]["resourceVersion"]) >= standin.resource_version - 1

    standin.expire()
    gone = _events(resp, lambda ev: any(e["type"] == "ERROR" for e in ev))[-1]
    assert gone["object"]["code"] == 410 and gone["object"]["reason"] == "Expired"
    old = _get(standin, f"/api/v1/namespaces/default/pods?watch=true&resourceVersion={rv}")
    [event] = _events(old, lambda ev: False)
    assert event["type"] == "ERROR" and event["object"]["code"] == 410


def test_fail_next_and_stop_cuts_watches():
    s = KubeApiStandin().start()
    s.fail_next(503)
    assert _get(s, "/api/v1/pods", token=None).status == 503
    assert _get(s, "/api/v1/pods", token=None).status == 200
    resp = _get(s, f"/api/v1/pods?watch=true&resourceVersion={s.resource_version}", token=None)
    assert resp.status == 200
    deadline = time.monotonic() + 5
    while s.open_watches != 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    s.stop()
    assert resp.readline() == b""     # stream cut, not left hanging
    assert s.open_watches == 0


def test_real_client_watch_helper_works(standin, tmp_path):
    """The client's own Watch (model objects) also understands the stand-in."""
    from kubernetes import client, config, watch

    path = standin.write_kubeconfig(tmp_path / "config")
    api = client.CoreV1Api(config.new_client_from_config(config_file=str(path), persist_config=False))
    standin.add_pod("default", "web-1", init_containers=("init",))
    pods = api.list_namespaced_pod("default")
    assert pods.items[0].status.container_statuses[0].ready is True
    standin.restart_container("default", "web-1", reason="OOMKilled", then="CrashLoopBackOff")
    w = watch.Watch()
    got = None
    for event in w.stream(api.list_namespaced_pod, "default",
                          resource_version=pods.metadata.resource_version, timeout_seconds=5):
        got = event
        w.stop()
    assert got["type"] == "MODIFIED"
    cs = got["object"].status.container_statuses[0]
    assert cs.restart_count == 1 and cs.state.waiting.reason == "CrashLoopBackOff"
    assert cs.last_state.terminated.reason == "OOMKilled"
