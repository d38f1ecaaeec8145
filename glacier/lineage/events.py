"""OpenLineage objects from what a run knows (imported on the sender thread, lineage on only).

Facets used, all from the spec the client ships: ``parent`` (task runs), ``processing_engine``,
``tags`` (Glacier's run id, mode, executor, attempts, cache hits), ``errorMessage`` (failed
runs), ``extractionError`` (columns whose lineage could not be read, and why), ``jobType``;
on datasets ``schema``, ``columnLineage`` and ``outputStatistics``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    error_message_run,
    extraction_error_run,
    job_type_job,
    output_statistics_output_dataset,
    parent_run,
    processing_engine_run,
    schema_dataset,
    tags_run,
)

from glacier import __version__
from glacier.lineage.model import Frame, indirect, simplest
from glacier.lineage.naming import DatasetId

__all__ = ["DatasetFacts", "RunInfo", "build_event", "PRODUCER", "STATES"]


PRODUCER = f"https://pypi.org/project/glacier-pipelines/{__version__}/"
STATES = {s.value: s for s in RunState}


@dataclass
class DatasetFacts:
    """What is known of one dataset at one moment of a run."""

    id: DatasetId
    schema: Mapping[str, Any] | None = None
    lineage: Frame | None = None
    rows: int | None = None
    size: int | None = None
    #: Why there is no column lineage (the whole dataset), when there is none.
    no_lineage: str | None = None


@dataclass
class RunInfo:
    """One OpenLineage run: a pipeline run or one task's part of it."""

    run_id: str
    namespace: str
    job: str
    kind: str  # PIPELINE or TASK
    tags: dict[str, str] = field(default_factory=dict)
    parent: tuple[str, str] | None = None  # (run id, job name) of the pipeline run
    error: str | None = None


def _schema_fields(schema: Mapping[str, Any]) -> list[schema_dataset.SchemaDatasetFacetFields]:
    out = []
    for position, (name, dtype) in enumerate(schema.items(), start=1):
        nested = _schema_fields(dict(dtype.to_schema())) if isinstance(dtype, pl.Struct) else []
        out.append(
            schema_dataset.SchemaDatasetFacetFields(
                name=name,
                type="Struct" if nested else str(dtype),
                ordinal_position=position,
                fields=nested,
            )
        )
    return out


def _input_fields(sources: dict[Any, set[Any]]) -> list[column_lineage_dataset.InputField]:
    out = []
    for source in sorted(sources, key=lambda f: (f.dataset.namespace, f.dataset.name, f.name)):
        out.append(
            column_lineage_dataset.InputField(
                namespace=source.dataset.namespace,
                name=source.dataset.name,
                field=source.name,
                transformations=[
                    column_lineage_dataset.Transformation(type=e.type, subtype=e.subtype, masking=e.masking)
                    for e in simplest(sources[source])
                ],
            )
        )
    return out


def column_lineage(frame: Frame) -> column_lineage_dataset.ColumnLineageDatasetFacet | None:
    fields = {
        name: column_lineage_dataset.Fields(inputFields=_input_fields(column.fields))
        for name, column in frame.columns.items()
        if column.fields and not column.unknown
    }
    dataset = {source: {indirect(s) for s in subtypes} for source, subtypes in frame.dataset.items()}
    if not fields and not dataset:
        return None
    return column_lineage_dataset.ColumnLineageDatasetFacet(
        fields=fields, dataset=_input_fields(dataset), producer=PRODUCER
    )


def extraction_errors(outputs: list[DatasetFacts]) -> extraction_error_run.ExtractionErrorRunFacet | None:
    """One error per dataset and reason, naming the columns whose lineage is unknown."""
    errors: list[extraction_error_run.Error] = []
    total = failed = 0
    for facts in outputs:
        where = f"{facts.id.namespace}/{facts.id.name}"
        if facts.lineage is None:
            if facts.no_lineage:
                total += 1
                failed += 1
                errors.append(
                    extraction_error_run.Error(
                        errorMessage=f"no column lineage for {where}: {facts.no_lineage}", task=where
                    )
                )
            continue
        reasons: dict[str, list[str]] = {}
        for name, column in facts.lineage.columns.items():
            total += 1
            for reason in column.unknown[:1]:
                reasons.setdefault(reason, []).append(name)
        for reason in facts.lineage.unknown:
            reasons.setdefault(reason, [])
        for reason, names in reasons.items():
            failed += len(names)
            what = f"columns {', '.join(names)} of {where}" if names else f"the rows of {where}"
            errors.append(
                extraction_error_run.Error(errorMessage=f"lineage of {what} not known: {reason}", task=where)
            )
    if not errors:
        return None
    return extraction_error_run.ExtractionErrorRunFacet(
        totalTasks=total, failedTasks=failed, errors=errors, producer=PRODUCER
    )


def input_dataset(facts: DatasetFacts) -> InputDataset:
    facets: dict[str, Any] = {}
    if facts.schema is not None:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=_schema_fields(facts.schema), producer=PRODUCER
        )
    return InputDataset(namespace=facts.id.namespace, name=facts.id.name, facets=facets)


def output_dataset(facts: DatasetFacts) -> OutputDataset:
    facets: dict[str, Any] = {}
    if facts.schema is not None:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=_schema_fields(facts.schema), producer=PRODUCER
        )
    if facts.lineage is not None and (found := column_lineage(facts.lineage)) is not None:
        facets["columnLineage"] = found
    output_facets: dict[str, Any] = {}
    if facts.rows is not None or facts.size is not None:
        output_facets["outputStatistics"] = (
            output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=facts.rows, size=facts.size, producer=PRODUCER
            )
        )
    return OutputDataset(
        namespace=facts.id.namespace, name=facts.id.name, facets=facets, outputFacets=output_facets
    )


def build_event(
    state: str,
    info: RunInfo,
    *,
    time: float,
    inputs: Sequence[DatasetFacts] = (),
    outputs: Sequence[DatasetFacts] = (),
) -> RunEvent:
    """A ``RunEvent`` in ``state`` (START, COMPLETE, FAIL or ABORT) for ``info``."""
    run_facets: dict[str, Any] = {
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version=__version__, name="glacier", openlineageAdapterVersion=__version__, producer=PRODUCER
        ),
    }
    if info.tags:
        run_facets["tags"] = tags_run.TagsRunFacet(
            tags=[tags_run.TagsRunFacetFields(key, value, "GLACIER") for key, value in info.tags.items()],
            producer=PRODUCER,
        )
    if info.parent is not None:
        parent_id, parent_job = info.parent
        run_facets["parent"] = parent_run.ParentRunFacet(
            run=parent_run.Run(runId=parent_id),
            job=parent_run.Job(namespace=info.namespace, name=parent_job),
            root=parent_run.Root(
                run=parent_run.RootRun(runId=parent_id),
                job=parent_run.RootJob(namespace=info.namespace, name=parent_job),
            ),
            producer=PRODUCER,
        )
    if info.error and state in ("FAIL", "ABORT"):
        run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
            message=info.error, programmingLanguage="PYTHON", producer=PRODUCER
        )
    if state in ("COMPLETE", "FAIL") and (errors := extraction_errors(list(outputs))) is not None:
        run_facets["extractionError"] = errors
    job_facets = {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration="GLACIER", jobType=info.kind, producer=PRODUCER
        )
    }
    return RunEvent(
        eventType=STATES[state],
        eventTime=datetime.fromtimestamp(time, tz=UTC).isoformat(),
        run=Run(runId=info.run_id, facets=run_facets),
        job=Job(namespace=info.namespace, name=info.job, facets=job_facets),
        inputs=[input_dataset(f) for f in inputs],
        outputs=[output_dataset(f) for f in outputs],
        producer=PRODUCER,
    )
