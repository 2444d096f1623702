"""Download defects found by an outside attack, each pinned by a test (see docs/download.md).

Long rendered names, ``--keep-partial`` on a full disk, braces in a template's directory,
suffixes on rerun, a part file swapped during the download, a kept partial claimed twice,
and clean-up when a signal handler raises ``SystemExit`` in the middle of a download.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from genmedia.types import MediaRef
from genmedia_download import naming
from genmedia_download.naming import Namer

from .conftest import PNG, blob, listing, sha

SCHNELL = "fal-ai/flux/schnell"
MIB = 1 << 20


# --------------------------------------------------------------------------- long names


@pytest.mark.parametrize("length", [224, 240, 246, 250, 251, 253, 255])
def test_long_rendered_names_are_cut_keeping_the_extension(
    fal_sandbox, put, result_for, finish, workdir, length
):
    """A final name of 246-255 bytes used to leave an orphan .part and report a failure."""
    url = put(PNG, "cat.png", "image/png")
    name = "é" * ((length - 4) // 2) + "a" * ((length - 4) % 2) + ".png"
    assert len(name.encode()) == length
    out = finish(result_for([{"url": url}]), download=f"out/{name}", sidecar=True)
    assert out.exit_code == 0, out
    [saved] = out.saved
    path = Path(saved["path"])
    assert path.read_bytes() == PNG and saved["sha256"] == sha(PNG)
    assert path.suffix == ".png" and len(path.name.encode()) <= getattr(
        naming, "MAX_NAME_BYTES", 224
    )
    assert name.startswith(path.stem)  # cut, not mangled (no half character)
    assert listing(workdir) == [f"out/{path.name}", f"out/{path.name}.json"]


def test_long_template_names_and_directories_fit(fal_sandbox, put, result_for, finish, workdir):
    url = put(PNG, "n" * 190 + ".png", "image/png")
    out = finish(
        result_for([{"url": url}], request_id="r" * 190),
        download="out/{request_id}{name}/{name}{request_id}.{ext}",
    )
    assert out.exit_code == 0, out
    path = Path(out.saved[0]["path"])
    assert path.suffix == ".png" and len(path.name.encode()) <= getattr(
        naming, "MAX_NAME_BYTES", 224
    )
    assert len(path.parent.name.encode()) <= 255 and path.read_bytes() == PNG
    assert listing(workdir) == [str(path.relative_to(workdir))]


def test_clean_up_tolerates_names_too_long(tmp_path):
    """Every clean-up path shrugs off ENAMETOOLONG instead of failing a finished download."""
    from genmedia_download.parts import TransferState, _cleanup

    part = tmp_path / ("a" * 252 + ".part")  # .part.json would be 262 bytes
    _cleanup(
        part, TransferState(url="http://x/y", file_size=None, written=5, validator='"v"'), True
    )
    _cleanup(part, TransferState(url="http://x/y", file_size=None), False)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- full disk


def _can_mount_tmpfs() -> bool:
    try:
        probe = subprocess.run(
            ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
            capture_output=True,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


@pytest.mark.timeout(120)
@pytest.mark.skipif(sys.platform != "linux", reason="needs Linux mount namespaces")
def test_keep_partial_on_a_full_disk_leaves_no_temporary_file(fal_sandbox, tmp_path, workdir):
    """A 1.5 MiB file system, a 3 MiB download, --keep-partial: it used to leave a 0-byte
    ``NAME.part.tmp``. Now: exit 9, and no temporary, empty or unresumable file."""
    if not _can_mount_tmpfs():
        pytest.skip("cannot mount a tmpfs in a user namespace here")
    from genmedia_sandbox.pytest_plugin import sandbox_environment

    fal_sandbox.add_fault(role="queue", method="POST", kind="large_output", size=3 * MIB)
    disk = workdir / "disk"
    disk.mkdir()
    report = tmp_path / "report.json"
    script = (
        'mount -t tmpfs -o size=1536k tmpfs "$1" || exit 99; '
        '"$2" -m genmedia run fal-ai/flux/schnell --prompt "a cat" --json '
        '--download "$1/" --keep-partial > "$3"; echo "exit=$?"; '
        'find "$1" -type f -printf "%s %f\\n"'
    )
    env = {**os.environ, **sandbox_environment(fal_sandbox, tmp_path)}
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, "sh", str(disk), sys.executable, str(report)],
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
    )
    lines = done.stdout.splitlines()
    assert lines and lines[0] == "exit=9", (done.stdout, done.stderr)
    files = [line.split(" ", 1) for line in lines[1:]]
    assert not [name for _size, name in files if name.endswith(".tmp")], files
    assert not [name for size, name in files if size == "0"], files
    names = sorted(name for _size, name in files)
    # either nothing, or a partial together with what resumes it
    assert names == [] or (len(names) == 2 and names[1] == names[0] + ".json"), names
    doc = json.loads(report.read_text())
    assert doc["download_failures"] and doc["downloaded_files"] == []


# --------------------------------------------------------------------------- braces


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("a{{b}}/{index}.{ext}", "a{b}/0.png"),
        ("x}}y/{name}.{ext}", "x}y/cat.png"),
        ("q{{/r/{index}.{ext}", "q{/r/0.png"),
        ("lit{{dir}}/", "lit{dir}/cat.png"),
        ("plain{{0}}.png", "plain{0}.png"),
    ],
)
def test_escaped_braces_in_the_directory_part(
    fal_sandbox, put, result_for, finish, workdir, template, expected
):
    url = put(PNG, "cat.png", "image/png")
    out = finish(result_for([{"url": url}]), download=template)
    assert out.exit_code == 0, out
    assert listing(workdir) == [expected]
    assert out.saved[0]["path"] == str(workdir / expected)


# --------------------------------------------------------------------------- reruns


def test_rerunning_the_readme_job_continues_suffixes(cli, fal_sandbox_env, workdir):
    args = ["run", SCHNELL, "--prompt", "a lighthouse at dawn", "--num_images", "2"]
    paths = []
    for _ in range(3):
        r = cli(*args, "--download", "genmedia-out/", "--json")
        assert r.exit_code == 0, r
        paths.append([Path(f["path"]).name for f in r.json["downloaded_files"]])
    assert paths == [
        ["images.jpg", "images_1.jpg"],
        ["images_2.jpg", "images_3.jpg"],
        ["images_4.jpg", "images_5.jpg"],
    ]


def _ref(index: int = 0, name: str = "cat.png") -> MediaRef:
    return MediaRef(url=f"https://h/files/k/{name}", json_path=f"images[{index}]", index=index)


def test_suffix_rules(tmp_path):
    for name in ("cat.png", "cat_1.png", "cat_7.png", "cat_01.png", "img_0.png"):
        (tmp_path / name).write_bytes(b"x")
    namer = Namer(".", request_id="r", endpoint_id="e", cwd=str(tmp_path))
    assert namer.plan(_ref(0, "cat.png")).path.name == "cat_2.png"  # the first free one
    assert namer.plan(_ref(1, "cat_7.png")).path.name == "cat_8.png"  # continues, no stack
    assert namer.plan(_ref(2, "cat_01.png")).path.name == "cat_01_1.png"  # not a suffix
    assert namer.plan(_ref(3, "img_0.png")).path.name == "img_0_1.png"
    # with {index} in the name, img_1 is the second file, not a renamed first one
    (tmp_path / "img_1.png").write_bytes(b"x")
    indexed = Namer("img_{index}.{ext}", request_id="r", endpoint_id="e", cwd=str(tmp_path))
    assert indexed.plan(_ref(1)).path.name == "img_1_1.png"
    assert indexed.plan(_ref(2)).path.name == "img_2.png"


# --------------------------------------------------------------------------- what is committed


@pytest.mark.timeout(60)
def test_a_part_file_swapped_during_the_download_is_not_committed(
    fal_sandbox, put, result_for, finish, workdir
):
    """The reported hash is always the hash of the bytes under the final name."""
    data = blob(200_000)
    url = put(data, "v.bin")
    fal_sandbox.add_fault(role="cdn", path="/files/*", kind="slow_body", bytes_per_s=200_000)
    out_dir = workdir / "out"
    swapped = threading.Event()

    def swap() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            parts = list(out_dir.glob("*.part")) if out_dir.exists() else []
            if parts:
                impostor = out_dir / "impostor"
                impostor.write_bytes(b"not what was served")
                os.replace(impostor, parts[0])
                swapped.set()
                return
            time.sleep(0.01)

    thread = threading.Thread(target=swap)
    thread.start()
    out = finish(result_for([{"url": url}]), download="out/")
    thread.join()
    assert swapped.is_set()
    assert out.exit_code == 9 and out.saved == []
    assert "replaced" in out.failures[0]["error"]
    assert listing(workdir) == []


def test_a_kept_partial_is_adopted_by_one_process_only(tmp_path):
    from genmedia_download.parts import _adopt

    url = "http://cdn.test/files/k/a.bin"
    kept = tmp_path / "a.bin.0123456789ab.part"
    kept.write_bytes(b"12345")
    Path(f"{kept}.json").write_text(json.dumps({"url": url, "validator": '"v"', "total": 10}))
    (tmp_path / "other.part").write_bytes(b"1")
    Path(tmp_path / "other.part.json").write_text(json.dumps({"url": "http://else/x"}))
    first, second = tmp_path / "a.bin.aaaaaaaaaaaa.part", tmp_path / "a.bin.bbbbbbbbbbbb.part"
    assert _adopt(first, url) is not None
    assert _adopt(second, url) is None  # already claimed: start from zero
    assert first.read_bytes() == b"12345" and not second.exists()
    assert sorted(os.listdir(tmp_path)) == [first.name, "other.part", "other.part.json"]


# --------------------------------------------------------------------------- signals

#: what the core does on SIGTERM/SIGHUP: raise from the handler in the main thread.
_RAISING_HANDLER = """
import runpy, signal, sys
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
sys.argv = ["genmedia", *sys.argv[1:]]
runpy.run_module("genmedia", run_name="__main__")
"""


@pytest.mark.timeout(90)
@pytest.mark.parametrize("keep_partial", [False, True])
def test_system_exit_from_a_signal_handler_cleans_up(fal_sandbox, tmp_path, workdir, keep_partial):
    from genmedia_sandbox.pytest_plugin import sandbox_environment

    # slow enough that even the small images are still arriving when the signal comes
    fal_sandbox.add_fault(role="cdn", path="/files/*", kind="slow_body", bytes_per_s=4000)
    args = ["run", SCHNELL, "--prompt", "a cat", "--num_images", "3", "--download", "out/"]
    args += ["--keep-partial"] if keep_partial else []
    env = {**os.environ, **sandbox_environment(fal_sandbox, tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _RAISING_HANDLER, *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out = workdir / "out"
    deadline = time.monotonic() + 40
    while len(list(out.glob("*.part"))) < 3:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the downloads never started"
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    _stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    left = listing(workdir)
    if keep_partial:  # each partial kept with what resumes it, nothing else
        parts = [name for name in left if name.endswith(".part")]
        assert len(parts) == 3 and sorted(left) == sorted(parts + [p + ".json" for p in parts])
    else:
        assert left == []
