"""Check what `sam build` made before it is deployed: the layer must run on Lambda as declared.

- cmarkgfm, nh3 and PyYAML are wheels for the template's architecture (manylinux aarch64
  for arm64) and Python version, and every compiled extension is an ELF for that machine;
- nothing of the local emulator or the dev tools is in the layer, and no module of the
  blogpub package imports one (``if TYPE_CHECKING:`` blocks never run, so they are skipped);
- every import of the blogpub package resolves to the standard library, the layer itself or
  the runtime's boto3;
- the unzipped layer plus the largest function stays far under Lambda's 250 MB.

Usage: python scripts/check-package.py [BUILD_DIR]   (default .aws-sam/build)
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
SIZE_BUDGET = 50 * 1024 * 1024  # a fifth of the limit: "far under", with room to grow
COMPILED_WHEELS = ("cmarkgfm", "nh3", "PyYAML")
RUNTIME_PROVIDED = {"boto3", "botocore"}  # the python3.13 runtime's own, kept as a pair
FORBIDDEN = {
    "moto",
    "blogpub_cli",
    "blogpub_local",
    "pytest",
    "_pytest",
    "mypy",
    "ruff",
    "hypothesis",
    "playwright",
    "cfnlint",
    "samcli",
    "werkzeug",
    "flask",
    "responses",
}
LAMBDA_GLIBC = (2, 34)  # Amazon Linux 2023, under the python3.13 runtime
ELF_MACHINES = {"arm64": 0xB7, "x86_64": 0x3E}
WHEEL_PLATFORM = {"arm64": "aarch64", "x86_64": "x86_64"}


class CheckError(Exception):
    """The built package would not run on Lambda as the template declares it."""


class TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags read as plain values."""


def _short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


TemplateLoader.add_multi_constructor("!", _short_tag)


def load_template(path: Path) -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=TemplateLoader)
    return template


def target(template: dict[str, Any]) -> tuple[str, str, str]:
    """The layer's logical id, its architecture and its Python version (3.13)."""
    layers = [
        (name, resource)
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::LayerVersion"
    ]
    if len(layers) != 1:
        raise CheckError(f"expected one layer in template.yaml, found {len(layers)}")
    name, layer = layers[0]
    (architecture,) = layer["Properties"]["CompatibleArchitectures"]
    (runtime,) = layer["Properties"]["CompatibleRuntimes"]
    return name, architecture, runtime.removeprefix("python")


def distributions(site: Path) -> dict[str, Path]:
    """Normalised distribution name -> its .dist-info folder."""
    found = {}
    for info in site.glob("*.dist-info"):
        metadata = (info / "METADATA").read_text(encoding="utf-8", errors="replace")
        match = re.search(r"^Name: (.+)$", metadata, re.MULTILINE)
        if match:
            found[normalise(match.group(1))] = info
    return found


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_tags(info: Path) -> list[str]:
    text = (info / "WHEEL").read_text(encoding="utf-8")
    return re.findall(r"^Tag: (\S+)$", text, re.MULTILINE)


def glibc_of(platform: str) -> tuple[int, int]:
    """The glibc a manylinux platform tag needs (manylinux2014 is glibc 2.17)."""
    if platform.startswith("manylinux2014"):
        return (2, 17)
    match = re.match(r"manylinux_(\d+)_(\d+)_", platform)
    return (int(match.group(1)), int(match.group(2))) if match else (99, 0)


def check_wheel(name: str, tags: list[str], architecture: str, python_version: str) -> None:
    machine = WHEEL_PLATFORM[architecture]
    cpython = "cp" + python_version.replace(".", "")
    needs = min(glibc_of(tag.split("-")[2]) for tag in tags)
    if needs > LAMBDA_GLIBC:
        raise CheckError(f"{name} needs glibc {needs}, the runtime has {LAMBDA_GLIBC}")
    for tag in tags:
        interpreter, abi, platform = tag.split("-")
        if not (platform.startswith("manylinux") and platform.endswith("_" + machine)):
            raise CheckError(f"{name}: wheel tag {tag} is not manylinux {machine}")
        stable_abi = abi == "abi3" and int(interpreter[2:]) <= int(cpython[2:])
        if interpreter != cpython and not stable_abi:
            raise CheckError(f"{name}: wheel tag {tag} does not run on CPython {python_version}")


def elf_machine(path: Path) -> int | None:
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        return None
    return int.from_bytes(header[18:20], "little" if header[5] == 1 else "big")


def check_extensions(site: Path, architecture: str) -> int:
    """Every shared object in the layer is built for the template's machine."""
    count = 0
    for path in site.rglob("*.so*"):
        if not path.is_file():
            continue
        machine = elf_machine(path)
        if machine != ELF_MACHINES[architecture]:
            raise CheckError(f"{path.relative_to(site)} is not an {architecture} ELF")
        count += 1
    return count


def top_level_names(site: Path) -> set[str]:
    names = set()
    for path in site.iterdir():
        if path.suffix in (".py", ".so") or (path.is_dir() and not path.name.endswith("-info")):
            names.add(path.name.split(".")[0])
    return names


def runtime_imports(node: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, top-level module) of every import that can run: TYPE_CHECKING blocks skipped."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield node.lineno, alias.name.split(".")[0]
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        yield node.lineno, node.module.split(".")[0]
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for orelse in child.orelse:
                yield from runtime_imports(orelse)
            continue
        yield from runtime_imports(child)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def check_imports(site: Path, package: str) -> int:
    """The package imports only the standard library, the layer and the runtime's boto3."""
    shipped = top_level_names(site)
    allowed = set(sys.stdlib_module_names) | shipped | RUNTIME_PROVIDED | {"__future__"}
    modules = sorted((site / package).rglob("*.py"))
    if not modules:
        raise CheckError(f"the layer holds no {package} package")
    for module in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"), str(module))
        for line, name in runtime_imports(tree):
            where = f"{module.relative_to(site)}:{line}"
            if name in FORBIDDEN or name.startswith("mypy"):
                raise CheckError(f"{where} imports {name}, a dev or emulator module")
            if name not in allowed:
                raise CheckError(f"{where} imports {name}, which the layer does not ship")
    return len(modules)


def check_contents(site: Path, package: str) -> None:
    shipped = top_level_names(site)
    unwanted = sorted(shipped & (FORBIDDEN | RUNTIME_PROVIDED))
    if unwanted:
        raise CheckError(f"the layer ships {', '.join(unwanted)}")
    dev_files = [
        path.relative_to(site)
        for path in (site / package).rglob("*")
        if path.name in ("tests", "conftest.py") or path.name.startswith("test_")
    ]
    if dev_files:
        raise CheckError(f"the layer ships test files: {dev_files}")


def check_bytecode(site: Path, python_version: str) -> str:
    """The layer's .pyc are all for the runtime's CPython and cover every module, or there are
    none (built without a python3.13: layers/blogpub/compile-bytecode.sh says so)."""
    tag = "cpython-" + python_version.replace(".", "")
    compiled = list(site.rglob("__pycache__/*.pyc"))
    foreign = sorted({path.name.split(".")[1] for path in compiled} - {tag})
    if foreign:
        raise CheckError(f"the layer ships bytecode for {', '.join(foreign)}, not {tag}")
    modules = list(site.rglob("*.py"))
    if not compiled:
        return f"no bytecode ({len(modules)} modules compile on each cold start)"
    missing = [
        path.relative_to(site)
        for path in modules
        if not (path.parent / "__pycache__" / f"{path.stem}.{tag}.pyc").is_file()
    ]
    if missing:
        raise CheckError(f"{len(missing)} modules have no {tag} bytecode, e.g. {missing[0]}")
    return f"bytecode for all {len(modules)} modules ({tag})"


def tree_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def main(build_dir: Path) -> None:
    template = load_template(REPO / "template.yaml")
    layer_id, architecture, python_version = target(template)
    site = build_dir / layer_id / "python"
    if not site.is_dir():
        raise CheckError(f"{site} is missing: run `sam build` first (make package)")
    package = "blogpub"

    found = distributions(site)
    for name in COMPILED_WHEELS:
        info = found.get(normalise(name))
        if info is None:
            raise CheckError(f"{name} is not in the layer")
        tags = wheel_tags(info)
        check_wheel(name, tags, architecture, python_version)
        version = info.name.removesuffix(".dist-info").split("-")[-1]
        print(f"{name} {version}: {', '.join(tags)}")
    extensions = check_extensions(site, architecture)
    print(f"compiled extensions: {extensions}, all {architecture} ELF")

    check_contents(site, package)
    modules = check_imports(site, package)
    print(f"{package}: {modules} modules; no dev or emulator imports, all imports shipped")
    print(check_bytecode(site, python_version))

    layer_size = tree_size(build_dir / layer_id)
    function_sizes = {
        name: tree_size(build_dir / name)
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    total = layer_size + max(function_sizes.values(), default=0)
    print(
        f"layer unzipped: {layer_size / 2**20:.1f} MiB; with the largest function "
        f"{total / 2**20:.1f} MiB of Lambda's {LAMBDA_UNZIPPED_LIMIT / 2**20:.0f} MiB"
    )
    if total > SIZE_BUDGET:
        raise CheckError(
            f"{total / 2**20:.1f} MiB is over the {SIZE_BUDGET / 2**20:.0f} MiB budget"
        )
    print(f"package OK: python{python_version} {architecture}")


if __name__ == "__main__":
    try:
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / ".aws-sam" / "build")
    except CheckError as error:
        print(f"check-package: {error}", file=sys.stderr)
        sys.exit(1)
