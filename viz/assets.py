"""Solara's front-end files, kept on disk so the classroom view works without internet.

Solara's page loads its JavaScript and CSS (the Vuetify app bundle, require.js, Font
Awesome) from a public CDN through its own ``/_solara/cdn`` proxy, unless the proxy's cache
directory (``SOLARA_ASSETS_PROXY_CACHE_DIR``) already holds them. Offline, an empty cache
gives a blank page. :func:`fetch` fills the cache from the npm registry with ``npm pack`` of
the exact package versions the installed solara asks for (read from its page template), so
the view never needs the CDN.

Usage::

    python -m adoption_model.viz.assets fetch [DIR]  # or: adoption-model view --fetch-assets
    python -m adoption_model.viz.assets check [DIR]  # exit 1 and list what is missing

References
----------
Solara server settings, ``SOLARA_ASSETS_PROXY_CACHE_DIR`` and the CDN proxy
(``solara/server/cdn_helper.py``, ``solara/server/templates/solara.html.j2``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from adoption_model.errors import InputError

#: Environment variable that overrides the default cache directory.
ENV_DIR = "ADOPTION_MODEL_ASSETS_DIR"

_CDN_REF = re.compile(
    r"(?:\{\{\s*cdn\s*\}\}|\$\{this\.getCdn\(\)\})/"
    r"((?:@[\w.-]+/)?[\w.-]+)@(\d[\w.-]*)/([^\"'`\s]*)"
)


def default_cache_dir() -> Path:
    """Where the view keeps Solara's front-end files (``$ADOPTION_MODEL_ASSETS_DIR`` wins)."""
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "adoption-model" / "solara-assets"


def _solara_sources() -> list[Path]:
    """Solara's page template and the components that load packages from the CDN."""
    import solara

    root = Path(solara.__file__).parent
    files = [root / "server" / "templates" / "solara.html.j2"]
    for pattern in ("components/*.py", "widgets/vue/*.vue", "lab/*.py", "components/*.vue"):
        files += sorted(root.glob(pattern))
    return files


def _references() -> list[tuple[str, str, str]]:
    """Every ``(package, version, path)`` the installed solara loads through its CDN proxy."""
    refs = []
    vuetify3 = _vuetify_major() >= 3
    for f in _solara_sources():
        for name, version, rest in _CDN_REF.findall(f.read_text(encoding="utf-8")):
            if name.endswith("vuetify3-app") and not vuetify3:
                continue  # the page loads the bundle matching ipyvuetify's major version
            refs.append((name, version, rest))
    return refs


def _vuetify_major() -> int:
    import ipyvuetify

    return int(str(ipyvuetify.__version__).split(".")[0])


def _ipywidgets_major() -> int:
    import ipywidgets

    return int(str(ipywidgets.__version__).split(".")[0])


def required_packages() -> dict[str, str]:
    """The npm packages (name -> version spec, as solara writes it) the view may load.

    Read from the installed solara: its page template (the Vuetify app bundle, require.js),
    the components that load a package on first use (the draggable grid, Markdown's
    mermaid and KaTeX, the Vega renderer) and the Font Awesome path in its settings.
    """
    import solara.server.settings as ss

    pkgs = {name: version for name, version, _ in _references()}
    fa = re.match(r"/?((?:@[\w.-]+/)?[\w.-]+)@([\d.]+)/", ss.assets.fontawesome_path)
    if fa:
        pkgs[fa.group(1)] = fa.group(2)
    return dict(sorted(pkgs.items()))


def required_files() -> list[str]:
    """Paths inside the cache that the page requests (used by :func:`missing`)."""
    import solara.server.settings as ss

    ipyw = str(_ipywidgets_major())
    files = [
        f"{name}@{version}/{rest.replace('{{ipywidget_major_version}}', ipyw)}"
        for name, version, rest in _references()
    ]
    files.append(ss.assets.fontawesome_path.lstrip("/"))
    return sorted(set(files))


def missing(cache_dir: Path | None = None) -> list[str]:
    """Files the page needs that are not in ``cache_dir``; empty when the cache is complete."""
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    return [f for f in required_files() if not (root / f).is_file()]


def fetch(cache_dir: Path | None = None, *, npm: str = "npm", quiet: bool = False) -> Path:
    """Fill ``cache_dir`` with the exact front-end packages solara needs, via ``npm pack``.

    Packages already present are kept. Each package is unpacked into a temporary directory
    and moved into place only when complete, so an interrupted fetch leaves no half package.
    """
    root = Path(cache_dir) if cache_dir else default_cache_dir()
    exe = shutil.which(npm)
    if exe is None:
        raise InputError(
            f"{npm}: not found; install Node.js/npm to fetch the view's front-end files "
            "(or copy a filled assets directory from another machine)"
        )
    root.mkdir(parents=True, exist_ok=True)
    for name, version in required_packages().items():
        target = root / f"{name}@{version}"
        if target.is_dir() and any(target.iterdir()):
            if not quiet:
                print(f"have  {name}@{version}")
            continue
        with tempfile.TemporaryDirectory(dir=root) as tmp:
            proc = subprocess.run(
                [exe, "pack", f"{name}@{version}", "--silent", "--pack-destination", tmp],
                capture_output=True,
                text=True,
                check=False,
            )
            tgz = [p for p in Path(tmp).glob("*.tgz")]
            if proc.returncode != 0 or not tgz:
                msg = (proc.stderr or proc.stdout).strip().splitlines()
                raise InputError(
                    f"npm pack {name}@{version} failed ({msg[-1] if msg else 'no output'}); "
                    "check that the npm registry is reachable"
                )
            unpack = Path(tmp) / "unpacked"
            with tarfile.open(tgz[0]) as tar:
                tar.extractall(unpack, filter="data")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(unpack / "package", target)
        if not quiet:
            print(f"got   {name}@{version}")
    for rel in missing(root):
        # the CDN minifies on the fly (``x.min.js`` for any ``x.js``); npm ships only ``x.js``
        plain = root / rel.replace(".min.js", ".js")
        if rel.endswith(".min.js") and plain.is_file():
            shutil.copyfile(plain, root / rel)
    gone = missing(root)
    if gone:
        raise InputError(f"{root}: still missing {', '.join(gone)} after fetching")
    return root


def main(argv: list[str] | None = None) -> int:
    """``python -m adoption_model.viz.assets fetch|check [DIR]``."""
    parser = argparse.ArgumentParser(
        prog="python -m adoption_model.viz.assets", description=__doc__.split("\n")[0]
    )
    parser.add_argument("action", choices=["fetch", "check", "where"])
    parser.add_argument("dir", nargs="?", type=Path, default=None)
    args = parser.parse_args(argv)
    root = args.dir or default_cache_dir()
    try:
        if args.action == "fetch":
            fetch(root)
            print(f"assets cache ready: {root}")
        elif args.action == "where":
            print(root)
        else:
            gone = missing(root)
            if gone:
                print(f"{root}: missing {', '.join(gone)}", file=sys.stderr)
                return 1
            print(f"{root}: complete")
    except InputError as exc:
        print(f"adoption_model.viz.assets: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
