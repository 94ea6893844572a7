"""Table tools: question answering over a table, and tabular classification / regression of feature rows.

A table arrives from a model in either of the two shapes people write by hand — a dict of columns
(``{"city": ["Paris", "Rome"], "population": [2.1, 2.8]}``) or a list of rows (``[{"city": "Paris", ...}, ...]``) —
and always travels as a dict of columns, the form the Inference API reads. Ragged input (a column shorter than
the others, a row with other keys than the first) is refused with a message naming the culprit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, Field, WithJsonSchema, field_validator

from langchain_hfserverless.tools._answers import predictions_answer, table_answer
from langchain_hfserverless.tools._base import HFServerlessTaskTool, Plan
from langchain_hfserverless.tools._jobs import AnswerError

Cell = str | int | float | bool | None
Columns = dict[str, list[Cell]]

_CELL_SCHEMA = {"type": ["string", "number", "boolean", "null"]}
TableInput = Annotated[
    Columns | list[dict[str, Cell]],
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "object",
                    "description": "Columns: each key is a column name, each value the column's cells, top to bottom.",
                    "additionalProperties": {"type": "array", "items": _CELL_SCHEMA},
                },
                {
                    "type": "array",
                    "description": "Rows: one object per row, every row with the same column names.",
                    "items": {"type": "object", "additionalProperties": _CELL_SCHEMA},
                },
            ]
        }
    ),
]
"""A table as a dict of columns or a list of rows (see :func:`as_columns`)."""

_TABLE = (
    "The table: either an object of columns ({'Repository': ['Transformers', 'Datasets'], 'Stars': [36542, 4512]}) "
    "or a list of rows ([{'Repository': 'Transformers', 'Stars': 36542}, ...]). Every column needs a value per row."
)


def as_columns(table: Any) -> Columns:
    """``table`` (columns or rows) as a dict of equally long columns; ValueError saying what is ragged otherwise."""
    if isinstance(table, Mapping):
        if not table:
            raise ValueError("The table has no columns: give at least one column with at least one value.")
        for name, values in table.items():
            if not isinstance(values, (list, tuple)):
                raise ValueError(f"Column {name!r} is not a list of cells: give each column as a list.")
        columns = {str(name): list(values) for name, values in table.items()}
        lengths = {name: len(values) for name, values in columns.items()}
        first, rows = next(iter(lengths.items()))
        for name, length in lengths.items():
            if length != rows:
                raise ValueError(
                    f"The table is ragged: column {name!r} has {length} value(s) but column {first!r} has {rows}. "
                    "Give every column one value per row (use null for a missing cell)."
                )
        if rows == 0:
            raise ValueError("The table has no rows: give every column at least one value.")
        return columns
    if isinstance(table, list):
        if not table:
            raise ValueError("The table has no rows: give at least one row.")
        if not all(isinstance(row, Mapping) for row in table):
            raise ValueError("Each row must be an object mapping column names to cells.")
        names = [str(k) for k in table[0]]
        if not names:
            raise ValueError("The first row has no columns.")
        for number, row in enumerate(table, start=1):
            keys = [str(k) for k in row]
            if set(keys) != set(names):
                missing = sorted(set(names) - set(keys))
                extra = sorted(set(keys) - set(names))
                detail = "; ".join(
                    part
                    for part in (f"missing {missing}" if missing else "", f"unexpected {extra}" if extra else "")
                    if part
                )
                raise ValueError(
                    f"The table is ragged: row {number} does not have the columns of row 1 ({detail}). "
                    "Give every row the same columns (use null for a missing cell)."
                )
        return {name: [row[name] for row in table] for name in names}
    raise ValueError("The table must be an object of columns or a list of row objects.")


def _rows(columns: Columns) -> int:
    return len(next(iter(columns.values())))


class TableQuestionInput(BaseModel):
    table: TableInput = Field(description=_TABLE)
    query: str = Field(min_length=1, description="The question about the table, e.g. 'Which city is largest?'")

    @field_validator("table", mode="before")
    @classmethod
    def _columns(cls, value: Any) -> Columns:
        return as_columns(value)


class TableQuestionAnsweringTool(HFServerlessTaskTool):
    """Answer a question about a table (Hub task ``table-question-answering``).

    The artifact is the server's answer: ``{"answer", "coordinates", "cells", "aggregator"}``.

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import TableQuestionAnsweringTool

            table = {"Repository": ["Transformers", "Datasets"], "Stars": ["36542", "4512"]}
            print(TableQuestionAnsweringTool().invoke({"table": table, "query": "How many stars has Datasets?"}))
    """

    name: str = "ask_about_table"
    task = "table-question-answering"
    default_model = "google/tapas-base-finetuned-wtq"
    summary = (
        "Answer a question about a small table of data (table question answering, model {model}): look up a cell, "
        "or count, sum or average cells. Give the table as columns or as rows. Returns the answer, the cells it "
        "used and the aggregation applied."
    )
    args_schema: type[BaseModel] = TableQuestionInput

    def _plan(self, **kwargs: Any) -> Plan:
        args = TableQuestionInput(**kwargs)
        # Table QA models read every cell as text (TAPAS tokenises them): numbers are sent as their text.
        columns = as_columns(args.table)  # already columns: validated on the way in
        table = {name: ["" if v is None else str(v) for v in values] for name, values in columns.items()}
        inputs = {"query": args.query, "table": table}
        payload, route = yield from self._call_json(inputs, self._parameters())
        try:
            return table_answer(payload)
        except AnswerError as exc:
            raise self._unreadable(route, exc) from None


class FeatureRowsInput(BaseModel):
    table: TableInput = Field(
        description="The rows to predict for, with the feature columns the model was trained on: an object of "
        "columns ({'fixed_acidity': ['7.4', '7.8'], ...}) or a list of rows ([{'fixed_acidity': '7.4', ...}])."
    )

    @field_validator("table", mode="before")
    @classmethod
    def _columns(cls, value: Any) -> Columns:
        return as_columns(value)


class _TabularTool(HFServerlessTaskTool):
    """Feature rows in, one prediction per row out; the table travels beside ``inputs``, as huggingface_hub sends
    it (hf-inference serves ``tabular-classification``; ``tabular-regression`` needs a ``base_url``)."""

    args_schema: type[BaseModel] = FeatureRowsInput

    def _plan(self, **kwargs: Any) -> Plan:
        table = as_columns(FeatureRowsInput(**kwargs).table)  # already columns: validated on the way in
        payload, route = yield from self._call_json(None, self._parameters(), {"table": table})
        try:
            return predictions_answer(payload, _rows(table))
        except AnswerError as exc:
            raise self._unreadable(route, exc) from None


class TabularClassificationTool(_TabularTool):
    """Predict a class for each row of a table of features (Hub task ``tabular-classification``).

    The artifact is the list of predicted labels, one per row.

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import TabularClassificationTool

            rows = [{"fixed_acidity": "7.4", "volatile_acidity": "0.7", "citric_acid": "0", "residual_sugar": "1.9",
                     "chlorides": "0.076", "free_sulfur_dioxide": "11", "total_sulfur_dioxide": "34",
                     "density": "0.9978", "pH": "3.51", "sulphates": "0.56", "alcohol": "9.4"}]
            print(TabularClassificationTool().invoke({"table": rows}))
    """

    name: str = "classify_table_rows"
    task = "tabular-classification"
    default_model = "julien-c/wine-quality"
    summary = (
        "Predict a category for each row of a table of features with a trained tabular model ({model}). The "
        "columns must be the features the model was trained on. Returns one predicted label per row, in order."
    )


class TabularRegressionTool(_TabularTool):
    """Predict a number for each row of a table of features (Hub task ``tabular-regression``).

    The artifact is the list of predicted values, one per row. The router's providers do not serve this task
    today: point ``base_url`` at an Inference Endpoint running the model.

    Example:
        .. code-block:: python

            from langchain_hfserverless.tools import TabularRegressionTool

            tool = TabularRegressionTool(base_url="https://my-endpoint.endpoints.huggingface.cloud")
            rows = [{"Height": "11.52", "Length1": "23.2", "Length2": "25.4", "Length3": "30", "Species": "Bream",
                     "Width": "4.02"}]
            print(tool.invoke({"table": rows}))
    """

    name: str = "predict_table_values"
    task = "tabular-regression"
    default_model = "scikit-learn/Fish-Weight"
    summary = (
        "Predict a numeric value for each row of a table of features with a trained tabular regression model "
        "({model}). The columns must be the features the model was trained on. Returns one number per row, in order."
    )
