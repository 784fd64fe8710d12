"""`manage.py train_model` takes its options, help and defaults from TrainConfig's fields."""

from dataclasses import fields
from pathlib import Path

from django.conf import settings

from detector.management.commands.train_model import Command, config_from_options
from ml.training import TrainConfig


def parse(*args: str) -> TrainConfig:
    parser = Command().create_parser("manage.py", "train_model")
    return config_from_options(vars(parser.parse_args(list(args))))


def test_options_left_out_keep_the_fields_defaults():
    config = parse("--data", "faces")
    default_out = Path(settings.BASE_DIR) / TrainConfig(data=Path()).out
    assert config == TrainConfig(data=Path("faces"), out=default_out)


def test_every_field_is_an_option_with_help():
    parser = Command().create_parser("manage.py", "train_model")
    actions = {a.dest: a for a in parser._actions}
    for f in fields(TrainConfig):
        if f.metadata.get("skip"):
            continue
        assert f.name in actions, f.name
        assert actions[f.name].help.startswith(f.metadata["help"]), f.name


def test_given_options_reach_the_config():
    config = parse(
        "--data",
        "faces",
        "--batch",
        "4",
        "--model-version",
        "2",
        "--no-augment",
        "--pseudo-fakes",
        "sbi",
        "--input-size",
        "64",
        "--learning-rate",
        "0.01",
        "--resume",
        "--out",
        "elsewhere",
        "--methods",
        "Deepfakes,FaceSwap",
        "--compression",
        "c40",
    )
    assert (config.batch_size, config.version, config.augment) == (4, "2", False)
    assert (config.pseudo_fakes, config.input_size, config.learning_rate) == (
        "sbi",
        64,
        0.01,
    )
    assert config.resume is True and config.out == Path("elsewhere")
    assert config.dataset_options == {
        "methods": ["Deepfakes", "FaceSwap"],
        "compression": "c40",
    }
