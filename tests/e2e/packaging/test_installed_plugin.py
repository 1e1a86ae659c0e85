"""A user's project outside this repository: the wheels installed in a fresh venv, a strategy
test that uses the `krakengw_client` fixture, run by pytest, with the plugin found through its
`pytest11` entry point (nothing of this checkout on the path)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.e2e.packaging.conftest import Wheels, make_venv, scratch_env

USER_TEST = """\
from decimal import Decimal

from krakengw import Client, ExecType


def test_market_buy_fills(krakengw_client: Client) -> None:
    order = krakengw_client.submit_order("BTC/USD", "buy", Decimal("0.01"))
    for report in krakengw_client.stream_executions(from_sequence=0):
        if report.client_order_id == order.client_order_id and report.exec_type is ExecType.FILL:
            break
    assert report.cum_qty == Decimal("0.01")
    fills = krakengw_client.list_fills("BTC/USD", client_order_id=order.client_order_id)
    assert sum(f.qty for f in fills) == Decimal("0.01")
    assert krakengw_client.get_order(order.client_order_id).ord_status.name == "FILLED"
"""


def test_strategy_project_uses_the_installed_plugin(wheels: Wheels, tmp_path: Path) -> None:
    python = make_venv(tmp_path / "venv", wheels.server, wheels.client)
    project = tmp_path / "my-strategy"
    project.mkdir()
    (project / "test_strategy.py").write_text(USER_TEST)
    assert len(USER_TEST.splitlines()) <= 15

    where = subprocess.run(
        [str(python), "-c", "import gateway, krakengw, krakengw_testing as t; print(t.__file__)"],
        cwd=project,
        capture_output=True,
        text=True,
        env=scratch_env(),
        check=True,
    ).stdout.strip()
    assert where.startswith(str(tmp_path / "venv")), where  # from the wheel, not the checkout
    for script, expect in (("krakengw", "krakengw "), ("kraken-gateway", "kraken-gateway ")):
        shown = subprocess.run(
            [str(tmp_path / "venv" / "bin" / script), "--version"],
            capture_output=True,
            text=True,
            env=scratch_env(),
            check=False,
        )
        assert shown.returncode == 0 and shown.stdout.startswith(expect), shown.stderr

    run = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_strategy.py"],
        cwd=project,
        capture_output=True,
        text=True,
        env=scratch_env(),
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "1 passed" in run.stdout


def test_server_wheel_carries_the_console_page_and_its_libraries(wheels: Wheels) -> None:
    import zipfile

    names = set(zipfile.ZipFile(wheels.server).namelist())
    static = "gateway/console/static/"
    for name in ("index.html", "console.js", "console.css"):
        assert static + name in names
    for lib in ("preact.module.js", "hooks.module.js", "htm.module.js", "uPlot.esm.js"):
        assert static + "vendor/" + lib in names
    for licence in ("LICENSE.preact", "LICENSE.htm", "LICENSE.uplot"):
        assert static + "vendor/" + licence in names
