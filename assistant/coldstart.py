"""Cold start: transformers' table of its own exports, read from one file instead of 3,400.

Each `import transformers` builds a table of what every model file exports, by opening and
scanning about 3,400 source files (`define_import_structure`), twice over for the
`transformers.models` package; mlx-lm imports transformers for the student's tokenizer, so a
private `ask` spent more CPU on that table than on loading the student and answering. The
table depends only on transformers' own files, so it is kept in `cache/imports`, one file per
transformers install, named by its version, folder and the time its folders last changed
(another version, or a model folder added, gives another name), and handed to transformers
when it is next imported.

    coldstart.install()   # before the first `import transformers`; afterwards it does nothing
"""

from __future__ import annotations

import hashlib
import importlib.abc
import json
import os
import pickle
import sys
import threading
from pathlib import Path

_MODULE = "transformers.utils.import_utils"  # defines the table builder that transformers' packages call
_lock = threading.RLock()  # reentrant: building a table could import a package that asks for its own


def install(folder: Path | None = None) -> None:
    """Read transformers' export table from `folder` (default: cache/imports in the home) the next
    time transformers is imported, and write it there when it is built. No-op once transformers is loaded."""
    if "transformers" in sys.modules or any(isinstance(f, _Finder) for f in sys.meta_path):
        return
    if folder is None:
        from assistant import config

        folder = config.home() / "cache" / "imports"
    sys.meta_path.insert(0, _Finder(Path(folder)))


def uninstall() -> None:
    """Forget a pending install (transformers was not imported after all)."""
    for finder in [f for f in sys.meta_path if isinstance(f, _Finder)]:
        _remove(finder)


def _remove(finder) -> None:
    try:
        sys.meta_path.remove(finder)
    except ValueError:
        pass


class _Finder(importlib.abc.MetaPathFinder):
    """Finds transformers' import_utils as the other finders do, and swaps its table builder for `_Table`'s."""

    def __init__(self, folder: Path):
        self.folder = folder

    def find_spec(self, name, path, target=None):
        if name != _MODULE:
            return None
        _remove(self)  # one module, once
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find else None
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module
        folder = self.folder

        def exec_module(module):
            run(module)
            build = getattr(module, "define_import_structure", None)
            if callable(build):  # another transformers may have no such function: it is left alone
                module.define_import_structure = _Table(build, folder)

        loader.exec_module = exec_module  # this spec's own loader object: no other module sees it
        return spec


class _Table:
    """`define_import_structure(module_path, prefix=None)`, answered from the file when it holds the answer."""

    def __init__(self, build, folder: Path):
        self.build = build
        self.folder = folder
        self.file: Path | None = None
        self.tables: dict | None = None
        self.built = 0  # tables built from transformers' files in this process (0: all came from the file)
        self.__wrapped__ = build

    def __call__(self, module_path, prefix=None):
        with _lock:
            try:
                key = _key(module_path, prefix)
            except OSError:  # a path that is not there: transformers says so itself
                return self.build(module_path, prefix)
            tables = self._read(module_path)
            if key in tables:
                return tables[key]
            table = self.build(module_path, prefix)
            self.built += 1
            tables[key] = table
            self._write(tables)
            return table

    def _read(self, module_path) -> dict:
        if self.tables is None:
            self.tables = {}
            self.file = self.folder / f"transformers-{_install_digest(module_path)}.pickle"
            try:
                # Apprentice's own file in the user's own home, named by the install it describes
                tables = pickle.loads(self.file.read_bytes())
                if isinstance(tables, dict):
                    self.tables = tables
            except FileNotFoundError:
                pass
            except Exception:  # torn, or from other libraries: rebuilt by transformers and written again
                self.file.unlink(missing_ok=True)
        return self.tables

    def _write(self, tables: dict) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.file.with_name(f"{self.file.stem}.{os.getpid()}.{threading.get_ident()}.partial")
            tmp.write_bytes(pickle.dumps(tables, protocol=pickle.HIGHEST_PROTOCOL))
            tmp.replace(self.file)
            for old in sorted(self.folder.glob("transformers-*.pickle"), key=lambda p: p.stat().st_mtime)[:-2]:
                old.unlink(missing_ok=True)  # the install before an upgrade may still be wanted; older ones go
        except OSError:  # a read-only or full disk: the table is built from the files next time
            pass


def _key(module_path, prefix) -> tuple:
    """A table's name within its file: the folder or __init__.py it describes, with the times that file
    and its folder last changed (adding or removing a model folder changes the folder's)."""
    path = Path(module_path)
    folder = path if path.is_dir() else path.parent
    return (str(path), prefix, path.stat().st_mtime_ns, folder.stat().st_mtime_ns)


def _install_digest(module_path) -> str:
    """Names the transformers install: its version and folder, and Python's version."""
    try:
        from importlib.metadata import version

        release = version("transformers")
    except Exception:  # no metadata (a source tree on sys.path): the folder's time still tells versions apart
        release = "unknown"
    root = Path(module_path).resolve()
    while root.name != "transformers" and root.parent != root:
        root = root.parent
    key = [release, str(root), root.stat().st_mtime_ns if root.exists() else 0, sys.version]
    return hashlib.sha256(json.dumps(key).encode()).hexdigest()[:24]
