"""moto as the tests run it: the local stack's fidelity patches, installed once."""

from __future__ import annotations

from blogpub_local import moto_fidelity

moto_fidelity.install()
