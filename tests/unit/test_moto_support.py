"""The local stack names the moto versions it runs on and refuses the others before starting."""

from __future__ import annotations

from pathlib import Path

import pytest
from blogpub_cli.main import main
from blogpub_local import moto_support
from blogpub_local.moto_support import SUPPORTED_MOTO, UnsupportedMotoError, check_moto_version
from blogpub_local.stack import LocalStack, StackOptions, StackStartError

from tests.conftest import REPO


@pytest.mark.parametrize("installed", ["5.2.0", "5.2.5", "5.2.10.dev3"])
def test_supported_versions_pass(installed: str) -> None:
    assert check_moto_version(installed) == installed


@pytest.mark.parametrize("installed", ["5.1.22", "5.3.0", "6.0.0", "4.2.14", "none", "garbage"])
def test_other_versions_are_refused_naming_both_versions(installed: str) -> None:
    with pytest.raises(UnsupportedMotoError) as refused:
        check_moto_version(installed)
    message = str(refused.value)
    assert f"moto {installed} is installed" in message
    assert f"moto{SUPPORTED_MOTO}" in message
    assert "blogpub[local]" in message


def test_the_installed_moto_is_a_supported_one() -> None:
    # The lock file (requirements/lock.txt) must pin a moto the stack accepts.
    assert check_moto_version() == moto_support.installed_moto_version()


def test_the_stack_refuses_to_start_on_an_unsupported_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto_support, "installed_moto_version", lambda: "5.1.0")
    stack = LocalStack(StackOptions(template_path=REPO / "template.yaml"))
    with pytest.raises(StackStartError, match=r"moto 5\.1\.0 is installed"):
        stack.start()
    assert stack.info is None


def test_local_run_says_which_moto_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(moto_support, "installed_moto_version", lambda: "5.3.1")
    code = main(["local", "run", str(REPO / "examples" / "posts"), "--out", str(tmp_path)])
    assert code == 1
    assert f"moto 5.3.1 is installed, but the local stack supports moto{SUPPORTED_MOTO}" in (
        capsys.readouterr().err
    )
    assert list(tmp_path.iterdir()) == []
