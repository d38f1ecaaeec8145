"""One storage suite, run on every backend: local disk, moto S3, GCS emulator, Azurite."""

from __future__ import annotations

import polars as pl
import pytest

from glacier.errors import StorageError

FRAME = pl.DataFrame(
    {
        "id": [1, 2, 3, 4, 5],
        "year": [2024, 2024, 2025, 2025, 2026],
        "city": ["Oslo", "Lima", "Oslo", "Pune", "Lima"],
        "value": [10.5, -2.0, 7.25, 0.0, 3.5],
    }
)
SUFFIXES = ["parquet", "pq", "csv", "ndjson", "jsonl", "ipc", "arrow", "feather"]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_every_format_roundtrips(store, suffix):
    bucket = store.at(f"tables/frame.{suffix}")
    assert not bucket.exists()
    assert bucket.write(FRAME) is bucket
    assert bucket.exists()
    assert bucket.read().equals(FRAME)
    lazy = bucket.scan()
    assert isinstance(lazy, pl.LazyFrame)
    got = lazy.filter(pl.col("value") > 0).select("id", "city").collect()
    assert got.equals(FRAME.filter(pl.col("value") > 0).select("id", "city"))


def test_uri_fs_and_storage_options(store):
    bucket = store.at("raw/sales.parquet")
    uri = bucket.get_uri()
    scheme = {"local": "", "s3": "s3://", "gcs": "gs://", "azure": "az://"}[store.name]
    assert uri.endswith(f"{store.bucket}/raw/sales.parquet") and uri.startswith(scheme)
    bucket.write(FRAME)
    # users going beyond the API: the fsspec filesystem and polars' options work directly
    with bucket.fs.open(uri, "rb") as fh:
        assert pl.read_parquet(fh).equals(FRAME)
    opts = bucket.storage_options
    if store.name == "gcs":
        assert opts is None  # polars' gs:// reader cannot use the emulator: Glacier reads via fsspec
    else:
        assert pl.scan_parquet(uri, storage_options=opts or None).collect().equals(FRAME)


def test_write_lazyframe_streams(store):
    bucket = store.at("lazy/out.parquet")
    bucket.write(FRAME.lazy().filter(pl.col("year") > 2024).with_columns(double=pl.col("value") * 2))
    got = bucket.read()
    assert got["id"].to_list() == [3, 4, 5] and got["double"].to_list() == [14.5, 0.0, 7.0]


def test_overwrite_replaces_whole_object(store):
    bucket = store.at("over/t.csv")
    bucket.write(FRAME)
    bucket.write(FRAME.head(2).with_columns(pl.lit("x").alias("city")))
    got = bucket.read()
    assert got.height == 2 and set(got["city"]) == {"x"}
    assert bucket.ls() == ["over/t.csv"]


def test_failed_write_keeps_old_object_and_leaves_nothing(store):
    bucket = store.at("safe/t.parquet")
    bucket.write(FRAME)
    bad = pl.LazyFrame({"a": ["1", "x"]}).select(pl.col("a").cast(pl.Int64, strict=True))
    with pytest.raises(pl.exceptions.InvalidOperationError):
        bucket.write(bad)
    assert bucket.read().equals(FRAME)
    assert store.at("").ls() == ["safe/t.parquet"]


def test_ls_prefix_and_delete(store):
    for path in ("a/one.csv", "a/two.csv", "a/sub/three.csv", "b/four.csv"):
        store.at(path).write(FRAME)
    root = store.at("")
    assert root.ls() == ["a/one.csv", "a/sub/three.csv", "a/two.csv", "b/four.csv"]
    assert root.ls("a/") == ["a/one.csv", "a/sub/three.csv", "a/two.csv"]
    assert root.ls("a/t") == ["a/two.csv"]
    assert store.at("a").ls() == ["a/one.csv", "a/sub/three.csv", "a/two.csv"]
    assert store.at("a/one.csv").ls() == ["a/one.csv"]
    assert store.at("a/*.csv").ls() == ["a/one.csv", "a/two.csv"]
    assert store.at("a/one.csv").delete() == 1
    assert store.at("a/one.csv").delete() == 0  # missing is fine
    assert store.at("a").delete() == 2
    assert root.ls() == ["b/four.csv"]
    assert not store.at("a").exists()


def test_folder_ls_leaves_out_a_sibling_whose_name_starts_the_same(store):
    for path in ("a/one.csv", "ab/two.csv"):
        store.at(path).write(FRAME)
    assert store.at("a").ls() == ["a/one.csv"]
    assert store.at("").ls("a") == ["a/one.csv", "ab/two.csv"]  # a prefix is a prefix


def test_glob_reads_every_match(store):
    for i in range(3):
        store.at(f"events/day-{i}.parquet").write(FRAME.with_columns(day=pl.lit(i)))
    store.at("events/notes.csv").write(FRAME)  # not matched by the glob
    glob = store.at("events/day-*.parquet")
    assert glob.exists()
    got = glob.read().sort("day", "id")
    assert got.height == 3 * FRAME.height and got["day"].unique().sort().to_list() == [0, 1, 2]
    assert not store.at("events/none-*.parquet").exists()
    with pytest.raises(StorageError, match="no object at"):
        store.at("events/none-*.parquet").scan()


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".ndjson", ".arrow"])
def test_hive_partitioned_folder(store, suffix):
    folder = store.at("sales")
    if suffix == ".parquet":
        folder.write(FRAME, partition_by=["year"])  # parquet: the default for a folder
    else:
        folder.write(FRAME, partition_by=["year"], format=suffix.lstrip("."))
    keys = folder.ls()
    assert [k.split("/")[1] for k in keys] == ["year=2024", "year=2025", "year=2026"]
    assert all(k.endswith(suffix) for k in keys)
    got = folder.read().sort("id")
    assert got.columns[-1] == "year"  # hive columns come last, as polars puts them
    assert got.select(FRAME.columns).equals(FRAME)
    assert folder.scan().filter(pl.col("year") == 2025).collect()["id"].sort().to_list() == [3, 4]


def test_dataset_written_by_another_tool_is_read_as_hive(store):
    for (year,), part in FRAME.partition_by("year", as_dict=True, include_key=False).items():
        store.at(f"sales/year={year}/data.csv").write(part)
    got = store.at("sales").read().sort("id")
    assert got.select(FRAME.columns).equals(FRAME)


def test_partitioned_write_can_change_format(store):
    folder = store.at("fmt")
    folder.write(FRAME, partition_by="year")
    folder.write(FRAME, partition_by="year", format="ndjson")  # the parquet files go
    assert all(k.endswith(".ndjson") for k in folder.ls()) and len(folder.ls()) == 3
    assert folder.read().sort("id").select(FRAME.columns).equals(FRAME)


def test_partitioned_overwrite_drops_stale_partitions(store):
    folder = store.at("by_city")
    folder.write(FRAME, partition_by="city")
    assert len(folder.ls()) == 3
    folder.write(FRAME.filter(pl.col("city") == "Oslo"), partition_by=["city"])
    assert folder.ls() == ["by_city/city=Oslo/part-0.parquet"]
    assert folder.read()["id"].sort().to_list() == [1, 3]


def test_partitioned_write_bad_input(store):
    with pytest.raises(StorageError, match="no such column"):
        store.at("p").write(FRAME, partition_by=["nope"])
    with pytest.raises(StorageError, match="folder path"):
        store.at("p.parquet").write(FRAME, partition_by=["year"])
    with pytest.raises(StorageError, match="folder"):
        store.at("p").write(FRAME)
    with pytest.raises(StorageError, match=r"unknown format; use one of csv, ipc, ndjson, parquet"):
        store.at("p").write(FRAME, partition_by="year", format="xlsx")
    with pytest.raises(StorageError, match="disagrees with the path's suffix"):
        store.at("p.csv").write(FRAME, format="parquet")
    assert not store.at("p").exists() and not store.at("p.csv").exists()


def test_unknown_suffix_and_missing_object(store):
    with pytest.raises(StorageError, match=r"\.xlsx"):
        store.at("t.xlsx").scan()
    missing = store.at("nope/missing.parquet")
    with pytest.raises(StorageError, match=r"no object at .*nope/missing\.parquet") as info:
        missing.read()
    assert "\n" not in str(info.value)
    with pytest.raises(StorageError, match="DataFrame or LazyFrame"):
        missing.write([1, 2, 3])  # type: ignore[arg-type]


@pytest.mark.slow
def test_large_object_multipart(store):
    """A >= 50 MB object: multipart on S3 (16 MB parts), resumable on GCS, blocks on Azure."""
    n = 3_400_000  # hashes do not compress: ~16 bytes a row
    big = pl.select(x=pl.int_range(n).hash(7), y=pl.int_range(n).hash(11))
    bucket = store.at("big/large.parquet")
    bucket.write(big)
    fs = bucket.fs
    uri = bucket.get_uri()
    size = fs.info(uri)["size"]
    assert size >= 50 * 2**20
    if store.name == "s3":
        etag = fs.info(uri)["ETag"].strip('"')
        assert etag.endswith(f"-{-(-size // (16 * 2**20))}"), etag  # a completed multipart upload
    got = bucket.scan().select(pl.len(), pl.col("x").sum(), pl.col("y").max()).collect()
    want = big.select(pl.len(), pl.col("x").sum(), pl.col("y").max())
    assert got.equals(want)
