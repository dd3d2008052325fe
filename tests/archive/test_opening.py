"""Opening an archive: the files a killed crawl left open are recovered, then indexed."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from archive.config import ArchivePaths
from archive.db import Capture, open_database, session_factory
from archive.db.ingester import Ingester
from archive.index import IndexStore
from archive.opening import recover_archive
from archive.warc import iter_records
from tests.archive.warc.test_recovery import SITE, complete_warc, member_ends, open_copy  # noqa: F401 (a fixture)


def test_recovery_indexes_what_the_database_and_cdxj_had_not_heard_of(complete_warc: Path, tmp_path: Path) -> None:  # noqa: F811
    paths = ArchivePaths.resolve(data_dir=tmp_path)
    engine = open_database(paths.database_url)
    sessions = session_factory(engine)
    ends = member_ends(complete_warc)
    (tmp_path / "warcs").mkdir()
    path = open_copy(complete_warc, tmp_path / "warcs", ends[8] + 100)  # torn inside the fifth request
    ingester = Ingester(sessions)
    # the indexer thread had ingested the first two responses when the crawler died
    ingester.ingest([r for r in iter_records(complete_warc) if r.record_id in ("<urn:uuid:0>", "<urn:uuid:1>")])
    index = IndexStore(paths.index_dir)
    (result,) = recover_archive(paths, Ingester(sessions), index)
    with sessions() as session:
        captures = session.scalars(select(Capture).order_by(Capture.record_id)).all()
        assert [c.record_id for c in captures] == [f"<urn:uuid:{i}>" for i in range(4)]
        for capture in captures:
            assert capture.warc_filename == result.path.name
            assert capture.warc_offset in ends
    engine.dispose()
    assert not path.exists()
    lines = index.index_path(result.path.name).read_text().splitlines()
    assert [json.loads(line.split(" ", 2)[2])["url"] for line in lines] == [f"{SITE}{i}" for i in range(4)]
