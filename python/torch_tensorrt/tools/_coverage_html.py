"""The coverage report (:class:`torch_tensorrt.tools.coverage.CoverageReport`, taken as it comes: this module does
not import it) as one self-contained HTML page.

Everything is inline (CSS and a small script); the page references no other file and fetches nothing, so it
can be mailed or attached to an issue. Order: summary, the partition strip (one segment per partition in
execution order, sized by operator count, each engine its own colour, PyTorch hatched grey), the reasons grouped
by op, one card per engine, and the per-node table (collapsed; filterable by op text and by segment).

The strip's segments link to ``#seg-NAME``; the script opens the table and filters it to that segment, both on
click and when the page is opened with such a fragment (so a link can point at one engine's rows). When the
script has run, ``<body data-ready="1">``.
"""

from __future__ import annotations

import html
from typing import Any, Iterable

from torch_tensorrt._io import atomic_write_bytes

#: Engine colours (cycled); PyTorch segments use the hatched grey of ``.seg.pytorch``.
PALETTE = ("#2e7d32", "#1565c0", "#6a1b9a", "#00838f", "#ef6c00", "#ad1457", "#558b2f", "#4527a0", "#00695c", "#283593")

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1d1d1f;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.summary{color:#444;margin-bottom:12px}.muted{color:#777}
.strip{display:flex;height:44px;border-radius:6px;overflow:hidden;border:1px solid #bbb;background:#fff}
.seg{display:flex;align-items:center;justify-content:center;color:#fff;font-size:11px;text-decoration:none;
 overflow:hidden;white-space:nowrap;min-width:6px;border-right:1px solid #fff}
.seg:hover{filter:brightness(1.15)}
.seg.pytorch{color:#333;background:repeating-linear-gradient(45deg,#e0e0e0,#e0e0e0 6px,#f3c98b 6px,#f3c98b 12px)}
.legend{margin:6px 0 0;font-size:12px}.legend span{display:inline-block;margin-right:14px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:middle}
.reason{background:#fff;border:1px solid #e3c08a;border-left:5px solid #e39b2d;border-radius:6px;padding:8px 12px;
 margin:8px 0}
.reason .op{font-weight:600;font-family:ui-monospace,monospace}.count{color:#a05a00;margin-left:6px}
.reason ul{margin:4px 0 0 18px;padding:0}code{font-family:ui-monospace,monospace;font-size:12px}
.where{color:#1565c0}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #ccc;border-top:5px solid var(--c);border-radius:6px;padding:10px 12px;
 min-width:300px;max-width:560px}
.card h3{margin:0 0 6px;font-size:15px}.card p{font-size:13px;margin:6px 0}.why{font-size:14px}
table{border-collapse:collapse;font-size:12px;margin:4px 0}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}
th{background:#f0f0f0}tr.torch{background:#fff3cd}tr.hidden{display:none}
details{margin-top:8px}summary{cursor:pointer;font-weight:600}
.filters{margin:8px 0}.filters input,.filters select{margin-right:8px}
"""

SCRIPT = """
(function(){
  var details=document.getElementById('nodes'), opBox=document.getElementById('filter-op'),
      segBox=document.getElementById('filter-segment'), shown=document.getElementById('shown');
  function apply(){
    var op=opBox.value.trim().toLowerCase(), seg=segBox.value, n=0;
    var rows=document.querySelectorAll('#node-table tbody tr');
    for(var i=0;i<rows.length;i++){
      var r=rows[i], ok=(!seg||r.dataset.segment===seg)&&(!op||r.dataset.op.toLowerCase().indexOf(op)>=0);
      r.classList.toggle('hidden',!ok); if(ok){n++;}
    }
    shown.textContent=n+' of '+rows.length+' shown';
  }
  function focus(hash){
    if(hash.indexOf('#seg-')!==0){return;}
    segBox.value=decodeURIComponent(hash.slice(5)); details.open=true; apply();
  }
  opBox.addEventListener('input',apply); segBox.addEventListener('change',apply);
  var segs=document.querySelectorAll('#strip .seg');
  for(var i=0;i<segs.length;i++){segs[i].addEventListener('click',function(){focus(this.getAttribute('href'));});}
  focus(window.location.hash); apply();
  document.body.dataset.ready='1';
})();
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _colours(report: Any) -> dict[str, str]:
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(report.engine_names())}


def _strip(report: Any, colours: dict[str, str]) -> str:
    parts = []
    for seg in report.segments:
        label = "PyTorch" if seg.in_pytorch else seg.name.replace("_run_on_acc_", "engine ")
        style = f"flex-grow:{len(seg.nodes)}" + ("" if seg.in_pytorch else f";background:{colours[seg.name]}")
        title = f"{seg.name}: {len(seg.nodes)} operator(s) ({'PyTorch' if seg.in_pytorch else 'TensorRT'})"
        parts.append(
            f"<a class='seg {seg.kind}' data-kind='{seg.kind}' data-segment='{_e(seg.name)}' "
            f"data-ops='{len(seg.nodes)}' href='#seg-{_e(seg.name)}' style='{style}' title='{_e(title)}'>"
            f"{_e(label)} ({len(seg.nodes)})</a>"
        )
    legend = "".join(
        f"<span><i class='swatch' style='background:{colours[n]}'></i>{_e(n)}: {report.engines[n]} ops</span>"
        for n in report.engine_names()
    )
    legend += "<span><i class='swatch' style='background:#f3c98b'></i>PyTorch</span>"
    return f"<div id='strip' class='strip'>{''.join(parts)}</div><div class='legend'>{legend}</div>"


def _reasons(report: Any) -> str:
    groups = report.reason_groups()
    if not groups:
        return "<p class='muted' id='reasons-none'>Every operator runs in a TensorRT engine.</p>"
    items = []
    for g in groups:
        reasons = "".join(f"<li class='why'>{_e(r)}</li>" for r in g.reasons)
        sources = "".join(
            f"<li class='source'><code class='where'>{_e(s.where)}</code> <code>{_e(s.code)}</code></li>"
            for s in g.sources[:8]
        )
        more = f"<li class='muted'>... and {len(g.sources) - 8} more lines</li>" if len(g.sources) > 8 else ""
        items.append(
            f"<div class='reason' data-op='{_e(g.op)}'><span class='op'>{_e(g.op)}</span>"
            f"<span class='count'>&times;{g.count}</span><ul>{reasons}</ul><ul>{sources}{more}</ul></div>"
        )
    return f"<div id='reasons'>{''.join(items)}</div>"


def _io_rows(kind: str, specs: Iterable[Any]) -> str:
    return "".join(
        f"<tr class='{kind}'><td>{kind}</td><td>{_e(t.name)}</td><td>{_e(t.dtype)}</td><td>{_e(t.shape)}</td>"
        f"<td>{_e(t.range) if t.range else '<span class=muted>static</span>'}</td></tr>"
        for t in specs
    )


def _card(card: Any, colour: str) -> str:
    io = (
        f"<table class='io'><thead><tr><th></th><th>binding</th><th>dtype</th><th>shape</th><th>min .. opt .. max</th>"
        f"</tr></thead><tbody>{_io_rows('input', card.inputs)}{_io_rows('output', card.outputs)}</tbody></table>"
    )
    fams = ", ".join(f"{_e(f)} {n}" for f, n in sorted(card.families.items(), key=lambda kv: (-kv[1], kv[0])))
    if card.build is not None:
        b = card.build
        built = (
            f"<p class='build'>built: {b.layers} layers, {b.engine_bytes / 1e6:.2f} MB, "
            f"{b.build_s:.2f} s, precision {_e(b.precision)}</p>"
        )
    else:
        built = "<p class='build muted'>not built (run the report with a build for layers, size and time)</p>"
    return (
        f"<div class='card' id='engine-{_e(card.name)}' data-engine='{_e(card.name)}' style='--c:{colour}'>"
        f"<h3>{_e(card.name)} <span class='muted'>{card.ops} operators</span></h3>{io}"
        f"<p class='families'>by family: {fams}</p>{built}</div>"
    )


def _node_table(report: Any) -> str:
    seg_of = {n: s.name for s in report.segments for n in s.nodes}
    rows = []
    first = set()
    for n in report.nodes:
        seg = seg_of.get(n.node, "")
        anchor = ""
        if seg not in first:
            first.add(seg)
            anchor = f" id='row-{_e(seg)}'"
        cls = "trt" if n.partition else "torch"
        cells = (n.node, n.op, "yes" if n.converts else "no", n.partition or "PyTorch", n.reason, n.source)
        rows.append(
            f"<tr{anchor} class='{cls}' data-op='{_e(n.op)}' data-segment='{_e(seg)}'>"
            + "".join(f"<td>{_e(c)}</td>" for c in cells)
            + "</tr>"
        )
    options = "".join(f"<option value='{_e(s.name)}'>{_e(s.name)} ({len(s.nodes)})</option>" for s in report.segments)
    head = "".join(f"<th>{c}</th>" for c in ("node", "op", "converts", "runs in", "why not", "source"))
    return (
        f"<details id='nodes'><summary>All {len(report.nodes)} operators</summary>"
        "<div class='filters'><input id='filter-op' placeholder='filter by op, e.g. conv'>"
        f"<select id='filter-segment'><option value=''>all engines and PyTorch</option>{options}</select>"
        "<span id='shown' class='muted'></span></div>"
        f"<table id='node-table'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></details>"
    )


def render(report: Any) -> str:
    colours = _colours(report)
    cards = "".join(_card(report.cards[n], colours[n]) for n in report.engine_names() if n in report.cards)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>torch_tensorrt coverage: {_e(report.title)}</title><style>{CSS}</style></head><body>"
        f"<h1>Operator coverage: {_e(report.title)}</h1><p class='summary' id='summary'>{_e(report.summary())}</p>"
        f"<h2>Partitions in execution order</h2>{_strip(report, colours)}"
        f"<h2>Why operators run in PyTorch</h2>{_reasons(report)}"
        f"<h2>Engines</h2><div class='cards' id='engines'>{cards or '<p class=muted>No engine.</p>'}</div>"
        f"<h2>Operators</h2>{_node_table(report)}<script>{SCRIPT}</script></body></html>"
    )


def write_html(report: Any, path: str) -> None:
    atomic_write_bytes(path, render(report).encode("utf-8"), make_dirs=True, what="coverage report")
