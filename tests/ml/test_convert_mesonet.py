"""The MesoNet converter refuses files that are not the weights of the network asked for."""

import pytest

from ml.errors import ModelError
from ml.models.convert.mesonet import convert_mesonet
from tests.support.mesonet import mesonet_folder


def test_weights_of_the_other_network_are_refused(tmp_path):
    source = mesonet_folder() / "MesoInception_DF.h5"
    with pytest.raises(ModelError, match="does not hold meso4 weights"):
        convert_mesonet(source, tmp_path / "m.keras", arch="meso4")
    assert not (tmp_path / "m.keras").exists()


def test_a_file_that_is_not_hdf5_is_refused(tmp_path):
    source = tmp_path / "Meso4_DF.h5"
    source.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(ModelError, match="Keras HDF5"):
        convert_mesonet(source, tmp_path / "m.keras", arch="meso4")
    assert not (tmp_path / "m.keras").exists()
