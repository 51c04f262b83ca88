"""The start-up sweep of temporary files: real files, real ages (os.utime), links never followed."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from gateway.config import Config
from gateway.log import get_logger
from gateway.sweep import sweep_temporaries

HOUR = 3600.0


def aged(path: Path, seconds: float, data: bytes = b"half") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (time.time() - seconds,) * 2)
    return path


def test_old_temporaries_go_young_ones_and_other_files_stay(
        config: Config, caplog: pytest.LogCaptureFixture) -> None:
    outbox, jobs = config.outbox, config.jobs_dir
    old_ack = aged(outbox / "100001" / "acknowledgements" / ".tmp-x1y2", 2 * HOUR)
    old_sidecar = aged(jobs / "run-1" / "incoming" / ".tmp-abcd", 2 * HOUR)
    young = aged(outbox / "100001" / "acknowledgements" / ".tmp-now", 60)
    document = aged(outbox / "100001" / "acknowledgements" / "GW-1.ack.xml", 2 * HOUR)
    dotfile = aged(jobs / "run-1" / ".lock", 2 * HOUR)
    upload = aged(config.inbox / "100001" / ".tmp-subscriber-file", 2 * HOUR)  # not ours to sweep
    with caplog.at_level(logging.INFO, logger="gateway.sweep"):
        removed = sweep_temporaries(config, HOUR, get_logger("gateway.sweep"))
    assert sorted(removed) == sorted([old_ack, old_sidecar])
    assert not old_ack.exists() and not old_sidecar.exists()
    assert young.exists() and document.exists() and dotfile.exists() and upload.exists()
    (record,) = [r for r in caplog.records if r.getMessage() == "sweep.temporaries"]
    assert record.fields == {"removed": 2, "older_than_seconds": HOUR}  # type: ignore[attr-defined]


def test_links_are_never_followed_nor_removed(config: Config, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    target = aged(outside / ".tmp-not-ours", 2 * HOUR)
    config.outbox.mkdir(parents=True)
    os.symlink(outside, config.outbox / "100001")  # a folder link: not walked into
    os.symlink(target, config.outbox / ".tmp-link")  # a link named like a temporary: left as it is
    os.utime(config.outbox / ".tmp-link", (0, 0), follow_symlinks=False)
    assert sweep_temporaries(config, HOUR, get_logger("gateway.sweep")) == []
    assert target.exists() and (config.outbox / ".tmp-link").is_symlink()


def test_a_linked_root_is_swept_where_it_points(config: Config, tmp_path: Path) -> None:
    volume = tmp_path / "volume"
    old = aged(volume / "100001" / ".tmp-cut", 2 * HOUR)
    config.home.mkdir(parents=True, exist_ok=True)
    os.symlink(volume, config.outbox)  # the configured outbox is a link to a data volume
    assert sweep_temporaries(config, HOUR, get_logger("gateway.sweep")) == [old]
    assert not old.exists()


def test_missing_roots_are_nothing_to_sweep(config: Config) -> None:
    assert sweep_temporaries(config, HOUR, get_logger("gateway.sweep")) == []
