"""One store used by several processes and threads at once, as ML code does (multiprocessing
workers, forked servers), on real servers."""

from __future__ import annotations

from pathlib import Path

from .test_modes import run_child


def test_forked_workers_writing_through_the_parents_store_get_ids_of_their_own(
    tmp_path: Path,
) -> None:
    """Ids are reserved in blocks of 256 and handed out locally: a forked child inherited the
    parent's block, so parent and children gave the same id to different artifacts (4 artifacts
    stored with id 2; steps failing with "the same event twice in one write")."""
    code = (
        "import multiprocessing as mp, os, sys\n"
        "from lineage_graph import LineageStore, Artifact, ArtifactType\n"
        "store = None\n"
        "def work(k):\n"
        "    return store.put_artifacts([Artifact(type='DataSet', uri=f'/w{k}')])[0]\n"
        "if __name__ == '__main__':\n"
        "    for target in ('memory', sys.argv[1]):\n"
        "        store = LineageStore.open(target)\n"
        "        store.put_artifact_type(ArtifactType(name='DataSet'))\n"
        "        store.put_artifacts([Artifact(type='DataSet', uri='/first')])\n"
        "        pid = os.fork()\n"
        "        if pid == 0:\n"
        "            store.put_artifacts([Artifact(type='DataSet', uri='/child')])\n"
        "            os._exit(0)\n"
        "        os.waitpid(pid, 0)\n"
        "        with mp.get_context('fork').Pool(3) as pool:\n"
        "            pool.map(work, range(6), chunksize=1)\n"
        "        store.put_artifacts([Artifact(type='DataSet', uri='/last')])\n"
        "        ids = [a.id for a in store.get_artifacts()]\n"
        "        print(len(ids), len(set(ids)))\n"
        "        store.close()\n"
    )
    out = run_child(code, str(tmp_path / "store"))
    assert out.splitlines() == ["9 9", "9 9"], "an id was given to two artifacts"
