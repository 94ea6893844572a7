"""``tools/tables.py``: table question answering and tabular classification / regression end to end over loopback
HTTP, then langchain-tests' standard unit suite for each.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from langchain_hfserverless.errors import (
    HFServerlessAPIError,
)
from langchain_hfserverless.tools import (
    TableQuestionAnsweringTool,
    TabularClassificationTool,
    TabularRegressionTool,
)
from tests.loopback import LoopbackServer
from tests.unit import tool_harness
from tests.unit.tool_harness import StandardToolUnit, call

# The shared fixtures this module uses.
_servers, server = tool_harness._servers, tool_harness.server


def test_table_question_answering_takes_rows_and_sends_columns_of_text(server: LoopbackServer) -> None:
    answer = {
        "answer": "SUM > 4512, 3934",
        "coordinates": [[1, 1], [2, 1]],
        "cells": ["4512", "3934"],
        "aggregator": "SUM",
    }
    server.reply(body=answer)
    rows = [
        {"Repo": "Transformers", "Stars": 36542},
        {"Repo": "Datasets", "Stars": 4512},
        {"Repo": "Tok", "Stars": 3934},
    ]
    message = call(TableQuestionAnsweringTool(base_url=server.url), {"table": rows, "query": "Total stars?"})
    assert server.requests[0].json() == {
        "inputs": {
            "query": "Total stars?",
            "table": {"Repo": ["Transformers", "Datasets", "Tok"], "Stars": ["36542", "4512", "3934"]},
        }
    }
    assert message.artifact == answer
    assert message.content == "Answer: SUM > 4512, 3934. Cells used: 4512, 3934. Aggregation: SUM"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"a": [1, 2], "b": [1]}, "column 'b' has 1 value"),
        ([{"a": 1, "b": 2}, {"a": 3}], r"row 2 does not have the columns of row 1 \(missing \['b'\]\)"),
        ([{"a": 1}, {"a": 2, "c": 3}], r"unexpected \['c'\]"),
        ({"a": "not a list"}, "Column 'a' is not a list"),
        ([], "no rows"),
    ],
)
def test_ragged_tables_are_refused_with_what_is_wrong(server: LoopbackServer, table: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        call(TableQuestionAnsweringTool(base_url=server.url), {"table": table, "query": "q"})
    with pytest.raises(ValidationError, match=message):
        call(TabularClassificationTool(base_url=server.url), {"table": table})
    assert server.requests == []


def test_tabular_tools_send_the_table_beside_inputs_and_answer_one_prediction_per_row(server: LoopbackServer) -> None:
    server.reply(body=["5", "6"])
    rows = [{"acidity": "7.4", "alcohol": "9.4"}, {"acidity": "7.8", "alcohol": "9.8"}]
    message = call(TabularClassificationTool(base_url=server.url), {"table": rows})
    assert server.requests[0].json() == {
        "inputs": None,
        "table": {"acidity": ["7.4", "7.8"], "alcohol": ["9.4", "9.8"]},
    }
    assert message.artifact == ["5", "6"]
    assert message.content == "Predictions, one per row:\nrow 1: 5\nrow 2: 6"
    server.reply(body=[110.5])
    with pytest.raises(HFServerlessAPIError, match="got 1 predictions for 2 rows"):
        call(TabularRegressionTool(base_url=server.url), {"table": rows}, use_async=True)


# --------------------------------------------------------------------------------------------- standard suite


class TestTableQuestionAnsweringToolUnit(StandardToolUnit):
    tool_class = TableQuestionAnsweringTool
    example = {"table": {"Repository": ["Transformers", "Datasets"], "Stars": [36542, 4512]}, "query": "Most stars?"}


class TestTabularClassificationToolUnit(StandardToolUnit):
    tool_class = TabularClassificationTool
    example = {"table": [{"fixed_acidity": "7.4", "alcohol": "9.4"}]}


class TestTabularRegressionToolUnit(StandardToolUnit):
    tool_class = TabularRegressionTool
    example = {"table": {"Height": ["11.52"], "Species": ["Bream"]}}
