"""Version-control facts of a git work tree as a run's custom properties (:func:`git_info`)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._encoding import shown
from .._redact import strip_credentials
from ..exceptions import InvalidArgumentError

if TYPE_CHECKING:
    pass


def _check_git_path(path: object) -> None:
    """``path`` names an existing directory, else :class:`InvalidArgumentError`: ``git=
    "/nonexistent/dir"`` (a typo) recorded nothing and said nothing, as a directory in no git
    work tree does (which stays so: a run may be recorded anywhere)."""
    if not isinstance(path, str | Path):
        # log_git(5) looked in the directory "5" and recorded nothing, silently
        raise InvalidArgumentError(f"a git work tree is a path (str or Path), got {shown(path)}")
    if "\x00" in str(path):  # subprocess raised a bare ValueError ("embedded null byte")
        raise InvalidArgumentError(f"git: a path cannot hold a NUL character: {str(path)!r:.80}")
    if not os.path.isdir(path):
        what = "is not a directory" if os.path.lexists(path) else "does not exist"
        raise InvalidArgumentError(f"git: the path {str(path)!r:.200} {what}")


def git_info(path: str | Path = ".") -> dict[str, Any]:
    """Version-control facts of the git work tree at ``path`` as custom properties:
    ``git_commit``, ``git_branch``, ``git_dirty`` and ``git_remote`` (those that apply).
    ``git_dirty`` is ``git describe --dirty``'s: a tracked file changed (staged or not); an
    untracked file is not counted (the store's own directory, ``./lineage-store``, or a run's
    outputs in the work tree would make every run dirty): a new source file not added yet is
    not seen. No cache lookup compares these (custom properties). Empty if ``path`` is not in
    a git work tree or git is not installed; a ``path`` that is not an existing directory is
    :class:`InvalidArgumentError`."""
    _check_git_path(path)

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                # The work tree's own config must not run commands here: core.fsmonitor (a
                # command `git status` runs) in a copied or downloaded repository's .git/config
                # ran whatever it named when a run recorded that tree (git=True, log_git).
                ["git", "-c", "core.fsmonitor=false", "-C", str(path), *args],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return {}
    info: dict[str, Any] = {"git_commit": commit}
    branch = git("rev-parse", "--abbrev-ref", "HEAD")
    if branch and branch != "HEAD":
        info["git_branch"] = branch
    status = git("status", "--porcelain", "--untracked-files=no")
    if status is not None:
        info["git_dirty"] = bool(status)
    remote = git("config", "--get", "remote.origin.url")
    if remote:
        info["git_remote"] = strip_credentials(remote)  # never record a secret
    return info
