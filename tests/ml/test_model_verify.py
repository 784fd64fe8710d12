"""A model file is installed only if it loads and is the network its card describes."""

from pathlib import Path

import pytest

from ml.errors import ModelError
from ml.models.archs import get_arch
from ml.models.verify import check_model_file
from tests.support.networks import SIZE, save_spec, save_temporal_spec


@pytest.fixture(scope="module")
def frame(tmp_path_factory):
    return save_spec(tmp_path_factory.mktemp("frame"), "tiny")


def test_a_card_that_describes_the_file_passes(frame):
    check_model_file(frame.path, frame.card)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"input_size": 2 * SIZE}, f"{2 * SIZE}x{2 * SIZE} RGB input"),
        ({"kind": "temporal"}, "face tracks"),
        ({"threshold": 1.5}, "threshold"),
    ],
)
def test_a_card_that_disagrees_with_the_network_is_refused(frame, overrides, message):
    with pytest.raises(ModelError, match=message):
        check_model_file(frame.path, {**frame.card, **overrides})


def test_a_network_built_here_must_be_the_architecture_the_card_names(tmp_path):
    path = tmp_path / "meso.keras"
    get_arch("meso4").build(input_size=SIZE, init="none").save(path)
    card = {**save_spec(tmp_path, "x").card, "arch": "meso4"}
    check_model_file(path, card)
    with pytest.raises(ModelError, match="says mesoinception4 but the file holds a meso4"):
        check_model_file(path, {**card, "arch": "mesoinception4"})


def test_a_track_model_must_take_tracks_of_the_card_size(tmp_path):
    track = save_temporal_spec(tmp_path)
    check_model_file(track.path, track.card)
    with pytest.raises(ModelError, match="face tracks of 64x64"):
        check_model_file(track.path, {**track.card, "input_size": 64})


def test_two_outputs_are_refused(tmp_path):
    spec = save_spec(tmp_path, "softmax", softmax=True)
    with pytest.raises(ModelError, match="one fake probability"):
        check_model_file(spec.path, spec.card)


def test_a_damaged_file_is_refused(frame, tmp_path):
    broken = tmp_path / "broken.keras"
    data = Path(frame.path).read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="broken.keras: the file is damaged"):
        check_model_file(broken, frame.card)
