"""Which moto versions the local stack runs on, and a clear refusal of the others.

moto_fidelity replaces parts of moto's private DynamoDB internals, which change between
minor versions; on an untested moto it could run and quietly answer unlike DynamoDB.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version

# Keep in step with pyproject's `local` extra. Below 5.2 DynamoDB responses never reach the
# fast serialiser (tests/integration/test_moto_fidelity.py fails on 5.1.20 to 5.1.22).
SUPPORTED_MOTO = ">=5.2,<5.3"
LOWEST = (5, 2)
FIRST_UNSUPPORTED = (5, 3)


class UnsupportedMotoError(Exception):
    """The installed moto is outside SUPPORTED_MOTO; the message says what to install."""


def installed_moto_version() -> str:
    try:
        return version("moto")
    except PackageNotFoundError:
        return "none"


def release(text: str) -> tuple[int, int] | None:
    """(major, minor) of a version string, or None when it does not start with them."""
    match = re.match(r"(\d+)\.(\d+)", text)
    return (int(match[1]), int(match[2])) if match else None


def check_moto_version(installed: str | None = None) -> str:
    """The installed moto's version; UnsupportedMotoError when the stack cannot run on it."""
    found = installed_moto_version() if installed is None else installed
    major_minor = release(found)
    if major_minor is None or not LOWEST <= major_minor < FIRST_UNSUPPORTED:
        raise UnsupportedMotoError(
            f"moto {found} is installed, but the local stack supports moto{SUPPORTED_MOTO}"
            f" only (it patches moto's DynamoDB internals): pip install 'blogpub[local]'"
            f" (or 'moto[server]{SUPPORTED_MOTO}')"
        )
    return found
