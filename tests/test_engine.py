"""The Dask engine gives the single-machine engine's answer, column by column.

A real local Dask cluster (two worker processes) with small partitions, so that clusters,
neighbour pairs and nearest neighbours cross partition borders on the shipped sample.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from landkit.config.load import load_config
from landkit.data.dataset import load_dataset, summarise_rasters
from landkit.engine.dask import DaskEngine, dask_client, halo_contexts
from landkit.engine.local import LocalEngine, positional, use_engine
from landkit.metrics.fragmentation import nearest_distance, neighbour_graph
from landkit.pipeline import assess

SAMPLE = Path(__file__).resolve().parents[1] / "gis_data" / "minhang.yaml"
CRS = "EPSG:32651"


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def sample():
    project = load_config(SAMPLE)
    return project, load_dataset(project, rasters=False)  # each test's engine summarises the rasters


def _squares(xy: np.ndarray, size: float = 10.0) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + size, xy[:, 1] + size), crs=CRS)


def test_partitions_follow_the_hilbert_curve_and_cover_every_row(client):
    rng = np.random.default_rng(1)
    frame = positional(_squares(rng.uniform(0, 5_000, (1_000, 2))))
    chunks = DaskEngine(client, partition_size=150).partitions(frame)
    assert len(chunks) == 7
    assert np.array_equal(np.sort(np.concatenate(chunks)), np.arange(1_000))
    # each partition is compact: much smaller than the whole extent
    spans = [shapely.area(shapely.box(*frame.iloc[c].total_bounds)) for c in chunks]
    assert max(spans) < 0.5 * shapely.area(shapely.box(*frame.total_bounds))


def test_halo_holds_every_row_within_the_distance(client):
    rng = np.random.default_rng(2)
    frame = positional(_squares(rng.uniform(0, 3_000, (600, 2))))
    chunks = DaskEngine(client, partition_size=100).partitions(frame)
    contexts = halo_contexts(frame, chunks, 120.0)
    geoms = np.asarray(frame.geometry.values)
    for own, ctx in zip(chunks, contexts, strict=True):
        # brute force: every row within 120 m of a row of this partition
        near = np.flatnonzero(shapely.distance(geoms[:, None], geoms[own][None, :]).min(axis=1) <= 120.0)
        assert set(near) <= set(ctx)
        assert set(own) <= set(ctx)


def test_pairs_and_nearest_cross_partition_borders(client):
    rng = np.random.default_rng(3)
    xy = np.vstack([rng.uniform(0, 2_000, (800, 2)), [[9_000, 9_000], [12_500, 500]]])  # two far loners
    frame = _squares(xy)
    local = neighbour_graph(frame, 25.0, return_distance=True), nearest_distance(frame)
    with use_engine(DaskEngine(client, partition_size=90)):
        dask = neighbour_graph(frame, 25.0, return_distance=True), nearest_distance(frame)
    for a, b in zip(local[0], dask[0], strict=True):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_series_equal(local[1], dask[1])
    # brute force
    geoms = np.asarray(frame.geometry.values)
    d = shapely.distance(geoms[:, None], geoms[None, :])
    np.fill_diagonal(d, np.inf)
    np.testing.assert_allclose(dask[1].to_numpy(), d.min(axis=1))
    i, j = np.nonzero(np.triu(d <= 25.0, 1))
    np.testing.assert_array_equal(dask[0][0], i)
    np.testing.assert_array_equal(dask[0][1], j)
    assert dask[1].iloc[-1] > 2_000  # the loner was found by the search over all parcels


def _frames(result) -> dict[str, pd.DataFrame]:
    frames = {"parcels": result.parcels, "blocks": result.blocks, "kpis": result.kpis, **result.tables}
    if result.rings is not None:
        frames.update(rings=result.rings.rings, linkage=result.rings.linkage)
    if result.scatter is not None:
        frames.update(clusters=result.scatter.clusters, adjusted=result.scatter.adjusted)
    return frames


def test_dask_engine_equals_the_single_machine_engine_on_the_sample(client, sample):
    project, data = sample
    with use_engine(LocalEngine()):  # the zonal statistics are the dataset's: loaded on the engine too
        local = assess(summarise_rasters(data, project), project)
    with use_engine(DaskEngine(client, partition_size=400)) as engine:  # 8 partitions of the 3,200 parcels
        dask = assess(summarise_rasters(data, project), project)
    assert engine.tasks >= 8 * 5  # zonal, road nodes, pairs and nearest (before and after the adjustments)
    a, b = _frames(local), _frames(dask)
    assert a.keys() == b.keys()
    for name in a:
        left, right = a[name], b[name]
        assert list(left.columns) == list(right.columns), name
        for column in left.columns:
            if isinstance(left, gpd.GeoDataFrame) and column == left.geometry.name:
                assert shapely.equals_exact(left.geometry.values, right.geometry.values, tolerance=0).all(), name
            else:
                pd.testing.assert_series_equal(left[column], right[column], check_exact=True, obj=f"{name}.{column}")
    assert local.summary == dask.summary
    assert local.parcels["cluster_id"].nunique() > 100  # clusters were there to cross borders


def test_cli_uses_an_existing_scheduler(client, tmp_path):
    """`--scheduler ADDRESS` runs on that cluster (here: the module's, two worker processes)."""
    import json

    from click.testing import CliRunner

    from landkit.cli.main import cli

    address = client.scheduler.address
    local = CliRunner().invoke(cli, ["assess", "-c", str(SAMPLE), "-o", str(tmp_path / "local")])
    dask = CliRunner().invoke(cli, ["assess", "-c", str(SAMPLE), "-o", str(tmp_path / "dask"), "--engine", "dask",
                                    "--scheduler", address, "--partition-size", "500"])
    assert local.exit_code == 0 and dask.exit_code == 0, dask.output
    read = lambda run: json.loads((tmp_path / run / "summary.json").read_text(encoding="utf-8"))  # noqa: E731
    assert read("local") == read("dask")
    a = gpd.read_file(tmp_path / "local" / "landkit.gpkg", layer="parcels")
    b = gpd.read_file(tmp_path / "dask" / "landkit.gpkg", layer="parcels")
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))


def test_unreachable_scheduler_is_one_clear_line(tmp_path):
    from click.testing import CliRunner

    from landkit.cli.main import cli

    result = CliRunner().invoke(cli, ["assess", "-c", str(SAMPLE), "-o", str(tmp_path / "x"), "--engine", "dask",
                                      "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert any("tcp://127.0.0.1:9" in line and "--scheduler" in line for line in lines[-1:]), result.output


def test_scheduler_needs_the_dask_engine(tmp_path):
    from click.testing import CliRunner

    from landkit.cli.main import cli

    result = CliRunner().invoke(cli, ["assess", "-c", str(SAMPLE), "-o", str(tmp_path / "x"), "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code != 0 and "--engine dask" in result.output
