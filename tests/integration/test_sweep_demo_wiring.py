"""``sweep`` in demo mode probes the demo websites where the server does: the sandbox's pages
(issue 12: it reported every demo site unreachable, probing the real internet)."""

from __future__ import annotations

from pathlib import Path

from beiandesk.config import Settings
from tests.conftest import KEYS


def _probe_for(settings: Settings):  # noqa: ANN202
    from beiandesk.adapters.wiring import attach
    from beiandesk.services.deps import Deps

    deps = Deps.__new__(Deps)
    attach(deps, settings)
    return deps.site_probe


def test_demo_mode_without_a_gateway_url_uses_the_sandbox_sites(tmp_path: Path) -> None:
    s = Settings(_env_file=None, var_dir=tmp_path, demo=True, public_url="http://127.0.0.1:8123",
                 probe_allow_private=True, **KEYS)
    probe = _probe_for(s)
    assert probe.rewrite is not None
    assert probe.rewrite("https://www.yunfan-tech.com.cn/") == "http://127.0.0.1:8123/sandbox/sites/yunfan-tech.com.cn/"
    assert probe.rewrite("https://example.org/") == "https://example.org/"


def test_sweep_demo_settings_match_serve_demo(tmp_path: Path) -> None:
    from beiandesk.entrypoints.cli.core import demo_settings, sweep_settings

    base = Settings(_env_file=None, var_dir=tmp_path, **KEYS)
    s = sweep_settings(base, demo=True, host="127.0.0.1", port=8123)
    assert s == demo_settings(base, "127.0.0.1", 8123)
    assert _probe_for(s).rewrite("https://www.yunfan-tech.com.cn/").startswith("http://127.0.0.1:8123/sandbox/sites/")
    # DEMO=true in the environment counts as --demo.
    env_demo = base.model_copy(update={"demo": True})
    assert sweep_settings(env_demo, demo=False, host="127.0.0.1", port=8000).gateway_url == "http://127.0.0.1:8000/sandbox"
    assert sweep_settings(base, demo=False, host="127.0.0.1", port=8000) is base
