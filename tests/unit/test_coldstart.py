"""The cold start runs with the cyclic garbage collector paused, on Lambda only (coldstart.py)."""

from __future__ import annotations

import pytest

from tests.conftest import REPO, fresh_interpreter

LAYER = REPO / "layers" / "blogpub"
HANDLERS = ("build_indexes", "render_post", "rollback")

# A handler wrapped as the functions wrap theirs: the collector's state before, during and
# after the first event, and after a second one.
_HANDLER_PROGRAM = """\
import gc, json
from blogpub import coldstart
states = {"imported": gc.isenabled()}
@coldstart.ends_cold_start
def handler(event, context):
    states.setdefault("first_event", gc.isenabled())
    if event.get("fail"):
        raise ValueError("the first event failed")
    return event
try:
    handler({"fail": FAIL}, None)
except ValueError:
    states["raised"] = True
states["after_first_event"] = gc.isenabled()
states["frozen"] = gc.get_freeze_count() > 0
handler({}, None)
states["after_second_event"] = gc.isenabled()
print(json.dumps(states))
"""


@pytest.mark.parametrize("fails", [False, True])
def test_on_lambda_the_collector_is_off_until_the_first_event_ends(fails: bool) -> None:
    # Given a Lambda execution environment
    env = {"LAMBDA_TASK_ROOT": str(LAYER)}
    # When a handler module imports coldstart and its first event ends, answered or raised
    program = _HANDLER_PROGRAM.replace("FAIL", str(fails))
    states = fresh_interpreter(program, env, [str(LAYER)])
    # Then the collector was off from the import through the first event, and is on after it
    # with the cold start's objects frozen
    expected = {
        "imported": False,
        "first_event": False,
        "after_first_event": True,
        "frozen": True,
        "after_second_event": True,
    }
    assert states == expected | ({"raised": True} if fails else {})


def test_outside_lambda_the_collector_is_left_alone() -> None:
    # Given a process that is not a Lambda environment (tests, the local stack, the CLI)
    # When the same handler runs
    states = fresh_interpreter(_HANDLER_PROGRAM.replace("FAIL", "False"), {}, [str(LAYER)])
    # Then the collector was never turned off and nothing was frozen
    assert states == {
        "imported": True,
        "first_event": True,
        "after_first_event": True,
        "frozen": False,
        "after_second_event": True,
    }


@pytest.mark.parametrize("handler", HANDLERS)
def test_each_handler_pauses_the_collector_before_its_other_imports(handler: str) -> None:
    # Given a Lambda environment with the handler's folder and the layer on the path
    env = {
        "LAMBDA_TASK_ROOT": str(REPO / "functions" / handler),
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    program = (
        "import gc, json, sys\n"
        "import app\n"
        "loaded = list(sys.modules)\n"
        "print(json.dumps({'enabled': gc.isenabled(),\n"
        "    'coldstart_before_powertools': loaded.index('blogpub.coldstart')\n"
        "        < loaded.index('aws_lambda_powertools'),\n"
        "    'outermost': app.lambda_handler.__code__\n"
        "        is sys.modules['blogpub.coldstart'].ends_cold_start(print).__code__,\n"
        "}))\n"
    )
    # When the handler module is imported (Lambda's init phase)
    states = fresh_interpreter(program, env, [str(REPO / "functions" / handler), str(LAYER)])
    # Then the collector is off, paused before Powertools (and the rest) loaded, and the
    # handler's outermost wrapper resumes it after the first event
    assert states == {"enabled": False, "coldstart_before_powertools": True, "outermost": True}
