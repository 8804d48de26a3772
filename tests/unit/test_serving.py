"""``serve --demo`` beside other nodes: a GATEWAY_URL naming a shared sandbox is used, not mounted."""

from __future__ import annotations

from beiandesk.config import Settings
from beiandesk.entrypoints.cli.core import demo_settings
from beiandesk.entrypoints.serving import mounts_own_sandbox


def test_demo_alone_mounts_its_own_sandbox() -> None:
    s = demo_settings(Settings(_env_file=None), "127.0.0.1", 8000)
    assert s.gateway_url == "http://127.0.0.1:8000/sandbox" and mounts_own_sandbox(s)
    assert s.rdap_url == "http://127.0.0.1:8000/sandbox/rdap"


def test_demo_with_a_shared_sandbox_uses_it() -> None:
    s = demo_settings(Settings(_env_file=None, gateway_url="http://127.0.0.1:8100/sandbox/"), "0.0.0.0", 8001)
    assert s.demo and not mounts_own_sandbox(s)
    assert (s.gateway_url, s.rdap_url) == ("http://127.0.0.1:8100/sandbox", "http://127.0.0.1:8100/sandbox/rdap")
    assert s.public_url == "http://127.0.0.1:8001" and s.probe_allow_private
    # behind haproxy the public URL given is kept (callbacks and e-mail links go through it)
    s = demo_settings(Settings(_env_file=None, gateway_url="http://10.0.0.5:8100/sandbox",
                               public_url="http://beian.example:8080"), "0.0.0.0", 8001)
    assert s.public_url == "http://beian.example:8080" and not mounts_own_sandbox(s)


def test_desk_mode_still_mounts_the_sandbox_for_the_registry() -> None:
    s = demo_settings(Settings(_env_file=None, gateway_url="desk"), "127.0.0.1", 8000)
    assert s.gateway_url == "desk" and mounts_own_sandbox(s)
