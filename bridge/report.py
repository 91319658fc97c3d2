"""One self-contained HTML page for the demo: per request the answer, the side-by-side video
(engine | neural | difference), the per-step error plot and the physics findings.

Media are referenced by paths relative to the page (the folder can be moved or zipped). A small
script on the page checks that every video and image loaded and writes the result into
``#media-status`` (``data-ok="true"``), which the browser test reads.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from twinsim.bridge.checker import Finding
from twinsim.sim.fileio import write_text

__all__ = ["ReportSection", "write_html_report"]


@dataclass
class ReportSection:
    """One request's block on the page.

    Attributes:
        title: the worded request (or a description of the clip).
        answer: the answer in words.
        videos: caption -> (webm path, mp4 path); either may be None.
        images: caption -> PNG path.
        findings: the checker's findings on the clip under test.
        facts: label -> value lines (backend, reason, cost, PSNR...).
    """

    title: str
    answer: str = ""
    videos: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)
    findings: Sequence[Finding] = ()
    facts: dict[str, str] = field(default_factory=dict)


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2em; } .sub { color: #666; margin-top: 0; }
section { border-top: 1px solid #ddd; padding: 1em 0; }
.answer { background: #f4f7fb; border-left: 4px solid #3a6ea5; padding: 0.6em 1em; }
.media { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
figure { margin: 0; } figcaption { font-size: 0.85em; color: #555; }
video { image-rendering: pixelated; max-width: 780px; background: #111; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } .none { color: #2a7a2a; } .bad { color: #b00; font-weight: 600; }
#media-status { font-size: 0.8em; color: #777; }
"""

_STATUS_JS = """
(function () {
  const status = document.getElementById('media-status');
  const media = [...document.querySelectorAll('video'), ...document.querySelectorAll('img')];
  let pending = media.length, failed = [];
  function done() {
    if (pending > 0) return;
    status.dataset.ok = failed.length === 0 ? 'true' : 'false';
    status.dataset.failed = failed.join(' ');
    status.textContent = failed.length === 0
      ? 'all ' + media.length + ' videos and images loaded'
      : 'failed to load: ' + failed.join(', ');
  }
  function settle(el, ok) {
    if (el.dataset.settled) return;
    el.dataset.settled = ok ? 'ok' : 'failed';
    if (!ok) failed.push(el.currentSrc || el.getAttribute('src') || el.id);
    pending -= 1; done();
  }
  media.forEach(function (el) {
    if (el.tagName === 'IMG') {
      if (el.complete) settle(el, el.naturalWidth > 0);
      else { el.addEventListener('load', () => settle(el, el.naturalWidth > 0));
             el.addEventListener('error', () => settle(el, false)); }
    } else {
      if (el.readyState >= 2) settle(el, el.videoWidth > 0);
      el.addEventListener('loadeddata', () => settle(el, el.videoWidth > 0));
      const sources = el.querySelectorAll('source');
      const last = sources[sources.length - 1];
      (last || el).addEventListener('error', () => settle(el, false));
    }
  });
  done();
})();
"""


def _rel(path: str | None, root: Path) -> str | None:
    if path is None:
        return None
    return Path(os.path.relpath(Path(path).resolve(), root.resolve())).as_posix()


def _findings_table(findings: Sequence[Finding]) -> str:
    if not findings:
        return '<p class="none">No physics findings: the clip agrees with the engine.</p>'
    rows = "".join(
        f"<tr><td class='bad'>{html.escape(f.kind)}</td><td>{html.escape(f.object)}</td>"
        f"<td>{f.start}-{f.end} (seen from {f.onset})</td><td>{html.escape(f.evidence)}</td></tr>"
        for f in findings
    )
    return (
        f"<p class='bad'>{len(findings)} physics finding(s):</p><table><tr><th>kind</th>"
        f"<th>object</th><th>frames</th><th>evidence</th></tr>{rows}</table>"
    )


def _section(i: int, s: ReportSection, root: Path) -> str:
    parts = [f"<section id='r{i}'><h2>{i}. {html.escape(s.title)}</h2>"]
    if s.answer:
        parts.append(f"<p class='answer'>{html.escape(s.answer)}</p>")
    parts.append("<div class='media'>")
    for cap, (webm, mp4) in s.videos.items():
        srcs = ""
        if webm:
            srcs += f"<source src='{html.escape(_rel(webm, root))}' type='video/webm'>"
        if mp4:
            srcs += f"<source src='{html.escape(_rel(mp4, root))}' type='video/mp4'>"
        parts.append(
            f"<figure><video controls autoplay loop muted playsinline preload='auto'>{srcs}"
            f"</video><figcaption>{html.escape(cap)}</figcaption></figure>"
        )
    for cap, img in s.images.items():
        parts.append(
            f"<figure><img src='{html.escape(_rel(img, root))}' alt='{html.escape(cap)}'>"
            f"<figcaption>{html.escape(cap)}</figcaption></figure>"
        )
    parts.append("</div>")
    parts.append(_findings_table(s.findings))
    if s.facts:
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in s.facts.items()
        )
        parts.append(f"<table>{rows}</table>")
    parts.append("</section>")
    return "\n".join(parts)


def write_html_report(
    path: str | Path,
    sections: Sequence[ReportSection],
    *,
    title: str = "twinsim demo",
    intro: str = "",
) -> Path:
    """Write the page to ``path`` (atomic); media paths are made relative to its folder."""
    path = Path(path)
    root = path.parent
    body = "\n".join(_section(i + 1, s, root) for i, s in enumerate(sections))
    toc = "".join(
        f"<li><a href='#r{i + 1}'>{html.escape(s.title)}</a></li>" for i, s in enumerate(sections)
    )
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='sub'>{html.escape(intro)}</p><ol>{toc}</ol>"
        f"{body}<p id='media-status' data-ok='pending'>checking media...</p>"
        f"<script>{_STATUS_JS}</script></body></html>\n"
    )
    return write_text(path, page)
