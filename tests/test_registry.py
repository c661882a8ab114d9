"""The model registry: versions on disk, the active one, use/rollback/rm, atomic registration."""

import json

import pytest

from assistant.errors import ApprenticeError, ModelMissing
from assistant.models import registry
from tests.conftest import register_checkpoint


def test_no_model_names_the_pull_command(home):
    with pytest.raises(ModelMissing, match="apprentice model pull"):
        registry.active()


def test_use_rollback_and_remove(home, tiny_checkpoint):
    register_checkpoint(tiny_checkpoint, "one")
    register_checkpoint(tiny_checkpoint, "two")
    assert registry.active_name() == "two"
    assert registry.rollback().name == "one"
    assert registry.active_name() == "one"
    registry.use("two")
    with pytest.raises(ApprenticeError, match="is active"):
        registry.remove("two")
    registry.remove("one")
    assert [v.name for v in registry.versions()] == ["two"]
    with pytest.raises(ApprenticeError, match="no earlier version"):
        registry.rollback()


def test_versions_record_source_bits_and_size(home, tiny_checkpoint):
    register_checkpoint(tiny_checkpoint, "tiny")
    (version,) = registry.versions()
    assert version.source == str(tiny_checkpoint)
    assert version.size_bytes() > 0
    stored = json.loads((registry.models_dir() / "tiny" / "version.json").read_text())
    assert stored["external_path"] == str(tiny_checkpoint) and "folder" not in stored


def test_a_version_whose_files_are_gone_names_the_pull_command(home, tmp_path, tiny_checkpoint):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_checkpoint, copy)
    register_checkpoint(copy, "gone")
    shutil.rmtree(copy)
    with pytest.raises(ModelMissing, match="apprentice model pull"):
        registry.active()


def test_an_unfinished_staging_folder_is_never_a_version(home):
    staging = registry.staging_folder("half")
    (staging / "config.json").write_text("{}")  # a pull that died before `register`
    assert registry.versions() == []
    registry.clean_staging()
    assert not staging.exists()


def test_bad_names_are_refused(home, tiny_checkpoint):
    with pytest.raises(ApprenticeError, match="not a usable version name"):
        register_checkpoint(tiny_checkpoint, "../escape")
