"""Regenerate cases.json from opening_hours.js's own test file (see SOURCE.md).

    python tests/directory/data/opening_hours_js/extract.py PATH/TO/opening_hours.js

Runs the project's `test/test.js` under node with its modules replaced by stubs that only
record each `addTest` call, so the expected intervals are exactly those written there
(strings as `new Date()` reads them with TZ=Europe/Berlin, the zone its tests run in). Keeps
the cases about PH, SH, comments, fallbacks, past-midnight spans, week numbers and dated
exceptions that evaluate time ranges (mode 0) and that opening_hours.js itself passes.
Not run by the tests: it needs node and a checkout of opening_hours.js.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import holidays

HERE = Path(__file__).parent
STUBS = {
    "yargs/index.js": """module.exports = function () { const y = {}; for (const k of
        ['usage', 'describe', 'alias', 'default', 'help']) y[k] = () => y;
        y.parse = () => ({ 'library-file': __dirname + '/../../lib.js', locale: 'en' });
        y.showHelp = () => {}; return y; };""",
    "yargs/helpers.js": "module.exports = { hideBin: (a) => a.slice(2) };",
    "timekeeper/index.js": "module.exports = { travel: () => {}, reset: () => {} };",
    "glob/index.js": """const fs = require('fs'); module.exports = { sync: () =>
        fs.readdirSync(process.env.NOMINATIM).filter(f => f.endsWith('.yaml'))
        .map(f => process.env.NOMINATIM + '/' + f) };""",
    "yaml/index.js": """module.exports = { parse: (text) => { const out = { address: {} };
        let section = out; for (const line of text.split('\\n')) {
          const m = line.match(/^(\\s*)([A-Za-z_]+):\\s*(.*)$/); if (!m) continue;
          const value = m[3].replace(/^'(.*)'$/, '$1');
          if (!m[1]) { section = m[2] === 'address' ? out.address : out;
                       if (m[2] !== 'address') out[m[2]] = value; }
          else section[m[2]] = value; } return out; } };""",
}
DUMP = r"""
function __fmt(d) { if (!(d instanceof Date)) d = new Date(d);
  const p = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' +
    p(d.getHours()) + ':' + p(d.getMinutes()); }
require('fs').writeFileSync(process.env.OUT, JSON.stringify(test.tests.map(t => ({
  name: t[0], value: t[1], from: __fmt(t[3]), to: __fmt(t[4]),
  intervals: t[5].map(i => [__fmt(i[0]), __fmt(i[1]), i[2], i[3] === undefined ? null : i[3]]),
  address: t[8] && t[8].address ? t[8].address : null, lat: t[8] ? t[8].lat : undefined,
  lon: t[8] ? t[8].lon : undefined, mode: t[9] }))));
process.exit(0);
"""
SUN = re.compile(r"sunrise|sunset|dawn|dusk", re.I)
CATEGORIES = {
    "PH": re.compile(r"\bPH\b"),
    "SH": re.compile(r"\bSH\b"),
    "comment": re.compile(r'"'),
    "fallback": re.compile(r"\|\|"),
    "week": re.compile(r"\bweek\b"),
    "dated": re.compile(r"\b(?:19|20)\d\d\b|\beaster\b|"
                        r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ?\d\d?\b"),
}
_RANGE = re.compile(r"(\d\d?):(\d\d)-(\d\d?):(\d\d)")
# Regions as ISO 3166-2 (python-holidays' subdivision codes) for the states the cases name.
STATES = {
    ("de", "Baden-Württemberg"): "DE-BW", ("de", "Bremen"): "DE-HB",
    ("de", "Rheinland-Pfalz"): "DE-RP", ("de", "Bayern"): "DE-BY",
    ("de", "Nordrhein-Westfalen"): "DE-NW", ("de", "Sachsen"): "DE-SN",
    ("de", "Hamburg"): "DE-HH", ("de", "Berlin"): "DE-BE", ("de", "Hessen"): "DE-HE",
    ("de", "Niedersachsen"): "DE-NI", ("de", "Thüringen"): "DE-TH",
    ("gb", "Scotland"): "GB-SCT", ("gb", "England"): "GB-ENG", ("gb", "Wales"): "GB-WLS",
    ("gb", "Northern Ireland"): "GB-NIR", ("at", "Wien"): "AT-9",
    ("us", "United States Virgin Islands"): "US-VI",
}


def categories(case: dict[str, object]) -> list[str]:
    value = str(case["value"])
    found = [name for name, pattern in CATEGORIES.items() if pattern.search(value)]
    if "midnight" in str(case["name"]) or any(
            (int(h2), int(m2)) <= (int(h1), int(m1)) or int(h2) > 24
            for h1, m1, h2, m2 in _RANGE.findall(value)):
        found.append("past-midnight")
    return found


def region(address: dict[str, str] | None) -> str:
    if not address:
        return ""
    country = address.get("country_code", "").lower()
    state = address.get("state", "")
    if country == "none":
        return ""
    if (country, state) in STATES:
        return STATES[country, state]
    calendar = holidays.country_holidays(country.upper())
    code = getattr(calendar, "subdivisions_aliases", {}).get(state)
    return f"{country.upper()}-{code}" if code else country.upper()


def main(checkout: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, text in STUBS.items():
            (work / "node_modules" / name).parent.mkdir(parents=True, exist_ok=True)
            (work / "node_modules" / name).write_text(text)
        (work / "lib.js").write_text("module.exports = function () {};")
        source = (checkout / "test" / "test.js").read_text()
        (work / "test.js").write_text(
            source.replace("process.exit(test.run() ? 0 : 1);", DUMP))
        env = {**os.environ, "TZ": "Europe/Berlin", "OUT": str(work / "out.json"),
               "NOMINATIM": str(checkout / "src" / "holidays" / "nominatim_cache")}
        subprocess.run(["node", "test.js"], cwd=work, env=env, check=True)
        raw = json.loads((work / "out.json").read_text())
    commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()
    cases = []
    for case in raw:
        value = case["value"]
        if not isinstance(value, str):  # ignored(value, reason)
            if value[1] not in ("prettifyValue", "check for week stable not implemented"):
                continue  # opening_hours.js itself does not pass it
            case["value"] = value = value[0]
        mode = case["mode"] or {}
        if mode.get("mode", 0) != 0 or mode.get("map_value") or SUN.search(value):
            continue
        found = categories(case)
        if not found:
            continue
        address = case["address"]
        cases.append({
            "name": case["name"], "expression": value, "categories": found,
            "country": (address or {}).get("country_code", ""),
            "state": (address or {}).get("state", ""), "region": region(address),
            "from": case["from"], "to": case["to"],
            "intervals": [[a, b, bool(unknown), comment]
                          for a, b, unknown, comment in case["intervals"]],
        })
    out = HERE / "cases.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    document = {
        "source": {"repository": "https://github.com/opening-hours/opening_hours.js",
                   "commit": commit, "path": "test/test.js", "licence": "LGPL-3.0-only",
                   "zone": "Europe/Berlin"},
        "calendar_differences": previous.get("calendar_differences", []),
        "cases": cases,
    }
    out.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    print(f"{len(cases)} cases written to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
