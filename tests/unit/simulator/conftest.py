from __future__ import annotations

import pytest

from lockerhub.simulator import World


@pytest.fixture
def world() -> World:
    return World.generate(6, seed=42)


@pytest.fixture
def locker_id(world: World) -> str:
    return world.lockers(per_page=1)[0][0].locker_id
