from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from archive.cli import main
from archive.configfile import format_duration, parse_duration
from archive.jobs.config import MAX_EVERY, JobsFileError, JobSpec, load_jobs

REPO = Path(__file__).resolve().parents[3]

SEEDS = """
[[outlet]]
name = "Example News"
allowed_domains = ["example.com"]
start_urls = ["https://www.example.com/news"]
article_patterns = ['/news/\\d{4}/']
"""

GOOD = """
[defaults]
timeout = "20m"
settings = { ARCHIVE_CONTACT_URL = "https://example.org/contact", DOWNLOAD_DELAY = 2 }

[[job]]
name = "frontpages"
seeds = "seeds.toml"
trigger = { cron = "*/15 * * * *" }

[[job]]
name = "story"
seeds = "seeds.toml"
trigger = { every = "1d" }
start = 2030-03-01T06:00:00
stop = 2030-04-01
timezone = "Asia/Ho_Chi_Minh"
timeout = "1h30m"
misfire_grace = "6h"
settings = { DOWNLOAD_DELAY = 5, ROBOTSTXT_OBEY = true }
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "seeds.toml").write_text(SEEDS, encoding="utf-8")
    path = tmp_path / "jobs.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["outlets.toml", "fixture-web.toml"])
def test_shipped_jobs_files_are_valid(name: str) -> None:
    jobs = load_jobs(REPO / "jobs" / name)
    assert jobs.jobs
    for job in jobs.jobs:
        assert job.seeds is not None and Path(job.seeds).is_file() or job.spider == "recheck"


def test_a_jobs_file_becomes_jobs_with_defaults_and_resolved_paths(tmp_path: Path) -> None:
    jobs = load_jobs(write(tmp_path, GOOD))
    frontpages, story = jobs.jobs
    assert frontpages.seeds == str(tmp_path / "seeds.toml")
    assert (frontpages.spider, frontpages.cron, frontpages.every) == ("news", "*/15 * * * *", None)
    assert (frontpages.timezone, frontpages.timeout, frontpages.misfire_grace) == ("UTC", 1200, None)
    assert dict(frontpages.settings) == {"ARCHIVE_CONTACT_URL": "https://example.org/contact", "DOWNLOAD_DELAY": "2"}
    hanoi = ZoneInfo("Asia/Ho_Chi_Minh")
    assert (story.every, story.timeout, story.misfire_grace) == (86400, 5400, 21600)
    assert story.start == datetime(2030, 3, 1, 6, tzinfo=hanoi)
    assert story.stop == datetime(2030, 4, 1, tzinfo=hanoi)  # a date is midnight in the job's zone
    assert dict(story.settings) == {
        "ARCHIVE_CONTACT_URL": "https://example.org/contact",
        "DOWNLOAD_DELAY": "5",
        "ROBOTSTXT_OBEY": "true",
    }


def test_state_round_trip_is_plain_data(tmp_path: Path) -> None:
    for job in load_jobs(write(tmp_path, GOOD)).jobs:
        state = job.to_state()
        assert JobSpec.from_state(state) == job
        assert all(isinstance(v, (str, int, dict, type(None))) for v in state.values())


def test_next_run_times(tmp_path: Path) -> None:
    frontpages, story = load_jobs(write(tmp_path, GOOD)).jobs
    now = datetime(2030, 3, 29, 10, 7, tzinfo=timezone.utc)
    assert [t.astimezone(timezone.utc).strftime("%H:%M") for t in frontpages.next_run_times(now, 3)] == [
        "10:15",
        "10:30",
        "10:45",
    ]
    # daily at 06:00 in Hanoi (23:00 UTC) until the stop date: two runs are left
    assert [t.astimezone(timezone.utc).isoformat() for t in story.next_run_times(now, 5)] == [
        "2030-03-29T23:00:00+00:00",
        "2030-03-30T23:00:00+00:00",
    ]


def test_an_interval_job_without_start_runs_when_scheduled(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('trigger = { cron = "*/15 * * * *" }', 'trigger = { every = "15m" }'))
    frontpages = load_jobs(path).jobs[0]
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert frontpages.runs_on_add
    assert frontpages.next_run_times(now, 3) == [now, now + timedelta(minutes=15), now + timedelta(minutes=30)]


@pytest.mark.parametrize(
    ("value", "seconds"), [(90, 90), ("90s", 90), ("15m", 900), ("1h30m", 5400), ("2d", 172800), ("1w", 604800)]
)
def test_durations(value: object, seconds: int) -> None:
    assert parse_duration(value, MAX_EVERY) == seconds
    assert parse_duration(format_duration(seconds), MAX_EVERY) == seconds


@pytest.mark.parametrize(
    "value", ["", "15", "15 min", "1m1h", "0s", 0, -5, True, 1.5, "53w", "99999999999w", "9" * 5000]
)
def test_bad_durations(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value, MAX_EVERY)


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ('"*/15 * * * *"', '"*/15 * * *"', "job 'frontpages'.trigger.cron", "five fields"),
        ('"*/15 * * * *"', '"*/75 * * * *"', "job 'frontpages'.trigger.cron", "minute"),
        ('"*/15 * * * *"', '"0 6 * * 1-5"', "job 'frontpages'.trigger.cron", "names"),
        (
            '{ cron = "*/15 * * * *" }',
            '{ cron = "* * * * *", every = "1h" }',
            "job 'frontpages'.trigger",
            "exactly one",
        ),
        ('{ cron = "*/15 * * * *" }', '{ at = "06:00" }', "job 'frontpages'.trigger.at", "unknown field"),
        ('{ every = "1d" }', '{ every = "daily" }', "job 'story'.trigger.every", "not a duration"),
        ('name = "story"', 'name = "frontpages"', "job 'frontpages'.name", "duplicate"),
        ('name = "story"', 'name = "a story"', "job[1].name", "letters, digits"),
        (
            'seeds = "seeds.toml"\ntrigger = { every',
            'seeds = "nope.toml"\ntrigger = { every',
            "job 'story'.seeds",
            "no such",
        ),
        ('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Hanoi"', "job 'story'.timezone", "time zone"),
        ("stop = 2030-04-01", "stop = 2030-02-01", "job 'story'.stop", "after start"),
        ('timeout = "1h30m"', 'timeout = "long"', "job 'story'.timeout", "not a duration"),
        ('timeout = "20m"', "", "job 'frontpages'.timeout", "required"),
        ('misfire_grace = "6h"', 'misfire = "6h"', "job 'story'.misfire", "unknown field"),
        ("DOWNLOAD_DELAY = 5,", 'STATS_FILE = "x",', "job 'story'.settings.STATS_FILE", "set by the scheduler"),
        ("DOWNLOAD_DELAY = 2", "download_delay = 2", "defaults.settings.download_delay", "setting name"),
        ('[[job]]\nname = "story"', '[[jobs]]\nname = "story"', "jobs", "unknown top-level key"),
        # issue 13: each of these passed `jobs check` and then crashed `jobs run` or `jobs serve`
        ('"*/15 * * * *"', '"0 6 31 apr *"', "job 'frontpages'.trigger.cron", "never runs"),
        ('{ every = "1d" }', '{ every = "99999999999w" }', "job 'story'.trigger.every", "too long"),
        ('{ every = "1d" }', '{ every = "367d" }', "job 'story'.trigger.every", "at most 52w2d"),
        ('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "America"', "job 'story'.timezone", "time zone"),
        ('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "../../../etc/passwd"', "job 'story'.timezone", "time zone"),
        ("start = 2030-03-01T06:00:00", "start = 9999-12-31T23:00:00", "job 'story'.start", "year 9999"),
        ("stop = 2030-04-01", "stop = 0001-01-01", "job 'story'.stop", "year 1"),
        ("stop = 2030-04-01", "stop = 07:00:00", "job 'story'.stop", "date-time"),
        ('timeout = "1h30m"', "timeout = 9223372036854775807", "job 'story'.timeout", "at most 4w2d"),
        ('misfire_grace = "6h"', 'misfire_grace = "999999999d"', "job 'story'.misfire_grace", "too long"),
        ('name = "story"', 'name = "story"\nargs = { "a=b" = "c" }', "job 'story'.args.a=b", "argument name"),
        (
            'seeds = "seeds.toml"\ntrigger = { every',
            'seeds = "seeds\\u0000.toml"\ntrigger = { every',
            "job[1].seeds",
            "NUL",
        ),
        ('name = "story"', 'name = "story"\nargs = { x = "\\u0000" }', "job[1].args.x", "NUL"),
    ],
)
def test_a_bad_job_names_the_file_the_job_and_the_field(
    tmp_path: Path, old: str, new: str, field: str, message: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(JobsFileError) as raised:
        load_jobs(path)
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{path}: {field}: ")
    assert message in str(raised.value)


def test_a_broken_seed_list_is_reported_through_the_job(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    (tmp_path / "seeds.toml").write_text(SEEDS.replace("allowed_domains", "domains"), encoding="utf-8")
    with pytest.raises(JobsFileError, match=r"job 'frontpages'\.seeds: .*seeds\.toml: outlet\[0\]\.domains: unknown"):
        load_jobs(path)


def test_jobs_check_prints_next_run_times(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD)
    assert main(["jobs", "check", str(path), "--count", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: 2 jobs, valid")
    lines = out.splitlines()
    frontpages = next(i for i, line in enumerate(lines) if line.startswith("frontpages "))
    assert "cron */15 * * * *" in lines[frontpages] and "20m" in lines[frontpages]
    assert lines[frontpages].endswith(" UTC") and lines[frontpages + 1].strip().endswith(" UTC")
    story = next(line for line in lines if line.startswith("story "))
    assert "every 1d from 2030-03-01 06:00 until 2030-04-01 00:00" in story and "Asia/Ho_Chi_Minh" in story
    assert story.endswith("+07")


def test_jobs_check_refuses_a_malformed_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD.replace('"*/15 * * * *"', '"*/15 * * *"'))
    assert main(["jobs", "check", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"newsarchive: error: {path}: job 'frontpages'.trigger.cron: five fields")


def test_the_scheduler_refuses_a_malformed_file_before_touching_the_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, GOOD.replace('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Mars/Olympus_Mons"'))
    assert main(["--data", str(tmp_path / "data"), "schedule", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"newsarchive: error: {path}: job 'story'.timezone: "
        "not a known IANA time zone: 'Mars/Olympus_Mons' (e.g. 'UTC', 'Europe/Berlin')\n"
    )
    assert not (tmp_path / "data").exists()


def test_a_recheck_job_needs_no_seeds_and_refuses_a_bad_due(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[[job]]\nname = "rechecks"\nspider = "recheck"\ntrigger = { every = "10m" }\ntimeout = "9m"\n')
    (job,) = load_jobs(good).jobs
    assert job.spider == "recheck" and job.seeds is None
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text() + 'args = { due = "soon" }\n')
    with pytest.raises(JobsFileError, match=r"job 'rechecks'\.args\.due: .*'due' or 'all'"):
        load_jobs(bad)
