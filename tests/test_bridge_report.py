"""`twinsim demo`: one HTML report, opened in a real headless Chromium (system package; CI
installs it in .ci/run): every video and image loads and the page is not blank."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import imageio.v3 as iio
import pytest
from twinsim.bridge.report_demo import run_demo

from twinsim.cli import main


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("demo")
    return run_demo(out, requests=["drop a red ball from 1 m onto a blue box"], horizon=4,
                    log=lambda _: None)  # fmt: skip


def test_demo_writes_one_report_with_its_media(demo):
    page = demo.report.read_text()
    assert demo.report.name == "index.html" and len(demo.sections) == 2
    assert page.count("<video") == 2 and page.count("<img") == 1
    assert "drop a red ball" in page and "Is this clip physically possible?" in page
    twin = demo.sections[-1]
    assert twin.findings and twin.findings[0].kind == "vanish"  # the checker caught the twin
    for s in demo.sections:
        for paths in s.videos.values():
            assert all(Path(p).is_file() for p in paths)
        assert all(Path(p).is_file() for p in s.images.values())


@pytest.mark.slow
def test_report_loads_in_headless_chromium(demo, tmp_path):
    exe = _chromium()
    if exe is None:
        pytest.skip("no chromium on PATH (apt-get install -y chromium; .ci/run does it)")
    url = demo.report.resolve().as_uri()
    flags = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--autoplay-policy=no-user-gesture-required", "--virtual-time-budget=15000"]  # fmt: skip
    dom = subprocess.run(
        [*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    status = dom[dom.index('id="media-status"') :][:400]
    assert 'data-ok="true"' in status, status  # every <video> and <img> loaded in the browser
    assert "all 3 videos and images loaded" in status
    shot = tmp_path / "shot.png"
    subprocess.run(
        [*flags, "--window-size=1200,1600", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    img = iio.imread(shot)
    assert img.shape[0] >= 1000 and img.std() > 20  # text, a video frame and a plot: not blank
    dark = (img[..., :3].mean(-1) < 60).mean()
    assert dark > 0.01  # the dark video panels are drawn


def test_demo_command_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--help"])
    assert exc.value.code == 0
    assert "HTML report" in capsys.readouterr().out
