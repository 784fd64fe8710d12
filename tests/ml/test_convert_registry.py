"""The converter registry: each format name reaches its own converter, an unknown one is refused,
and published files become checked models with their cards in one call."""

import shutil

import keras
import pytest

from detector.management.commands.install_model import Command
from ml.errors import ModelError
from ml.models.catalog import CATALOG, MESONET_FRAMING
from ml.models.checksum import file_sha256
from ml.models.convert import CONVERTERS, FORMATS, KERAS, convert, converter_for
from ml.models.convert.published import convert_file, convert_published
from tests.fixtures.dfdc import synthetic
from tests.support.mesonet import mesonet_folder

# For each registered name, a file only its own converter reads, and what it makes of it (a
# converter that refuses says so in its own words).
CASES = {
    "mesonet": (lambda: mesonet_folder() / "Meso4_DF.h5", {"arch": "meso4"}),
    "dfdc": (
        lambda: synthetic.HERE / "small_checkpoint.pth",
        "not a DFDC EfficientNet classifier",
    ),
    "commfor": (
        lambda: synthetic.HERE / "small_checkpoint.pth",
        "holds no \\['model'\\] state dict",
    ),
    "torchvision_resnext": (
        lambda: synthetic.HERE / "small_checkpoint.pth",
        "not a torchvision ResNeXt-50 32x4d checkpoint",
    ),
    "ufd": (
        lambda: synthetic.HERE / "small_checkpoint.pth",
        "not a UniversalFakeDetect checkpoint",
    ),
}


def test_every_registered_converter_is_exercised_here():
    assert set(CASES) == set(CONVERTERS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_name_reaches_its_own_converter(name, tmp_path):
    source, outcome = CASES[name]
    dest = tmp_path / "model.keras"
    assert converter_for(name).name == name
    if isinstance(outcome, str):
        with pytest.raises(ModelError, match=outcome):
            convert(name, source(), dest)
        assert not dest.exists()
    else:
        assert convert(name, source(), dest).items() >= outcome.items()
        assert keras.saving.load_model(dest, compile=False).name == outcome["arch"]


def test_an_unknown_name_is_refused_with_the_known_ones(tmp_path):
    for attempt in (lambda: converter_for("onnx"), lambda: convert("onnx", tmp_path, tmp_path)):
        with pytest.raises(
            ModelError, match="'onnx'.*dfdc, mesonet, commfor, torchvision_resnext, ufd"
        ):
            attempt()
    with pytest.raises(ModelError, match="No converter"):
        converter_for(KERAS)  # the platform's own format needs none


def test_install_model_offers_exactly_the_registered_formats():
    parser = Command().create_parser("manage.py", "install_model")
    (action,) = [a for a in parser._actions if "--format" in a.option_strings]
    assert tuple(action.choices) == FORMATS == (KERAS, *CONVERTERS)
    assert action.default == KERAS


def test_a_mesonet_file_of_either_network_is_told_by_its_weights(tmp_path):
    folder = mesonet_folder()
    converted = convert_file(
        "mesonet",
        folder / "MesoInception_F2F.h5",
        tmp_path,
        name="mine",
        version="1",
        url="https://example.org/MesoInception_F2F.h5",
    )
    card = converted.card
    assert converted.model_file == tmp_path / "mine.keras"
    assert (card["name"], card["version"], card["arch"]) == ("mine", "1", "mesoinception4")
    assert card["framing"] == MESONET_FRAMING and card["input_size"] == 256
    assert card["sha256"] == file_sha256(converted.model_file)
    assert card["source"]["sha256"] == CATALOG["mesoinception4-f2f"].files[0].sha256

    text = tmp_path / "notes.h5"
    text.write_text("not weights")
    with pytest.raises(ModelError, match="neither meso4 nor mesoinception4"):
        convert_file("mesonet", text, tmp_path, name="x", version="1", url=str(text))


def test_catalog_files_become_checked_models_and_downloads_are_consumed(tmp_path):
    entry = CATALOG["meso4-df"]
    download = tmp_path / "downloads" / entry.files[0].filename
    download.parent.mkdir()
    shutil.copy(mesonet_folder() / entry.files[0].filename, download)
    workdir = tmp_path / "work"
    workdir.mkdir()

    (converted,) = convert_published(entry, [download], workdir, consume=True)
    assert not download.exists(), "a download is removed once converted"
    card = converted.card
    assert converted.model_file == workdir / "meso4-df.keras"
    assert card["family"] == "meso4-df" and card["arch"] == "meso4"
    assert card["source"]["file_sha256"] == entry.files[0].sha256
    assert card["sha256"] == file_sha256(converted.model_file)

    mirrored = mesonet_folder() / entry.files[0].filename
    (again,) = convert_published(entry, [mirrored], tmp_path, consume=False)
    assert mirrored.is_file(), "a mirror folder's file stays"
    assert again.model_file == tmp_path / "meso4-df.keras"
