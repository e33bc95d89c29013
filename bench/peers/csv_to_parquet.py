#!/usr/bin/env python3
"""Write Parquet copies of the demo-data CSVs, for the peers' `--format parquet`.

    python csv_to_parquet.py DIR      # DIR/NAME.csv -> DIR/NAME.parquet for the three exports

Column types are what the CSV holds: integers as int64, true/false as bool, text as string,
and times as naive timestamps (wall-clock, as written in the CSV; no time zone attached).
An empty field is NULL in every column, text included, as metrictree reads a CSV: pyarrow
would otherwise keep an empty text field as "" and `bot_trigger IS NULL` would find nothing.
"""

import sys
from pathlib import Path

import pyarrow.csv as csv
import pyarrow.parquet as pq

NAMES = ("conversations", "handoffs", "audits")


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    data_dir = Path(sys.argv[1])
    for name in NAMES:
        table = csv.read_csv(
            data_dir / f"{name}.csv",
            convert_options=csv.ConvertOptions(strings_can_be_null=True),
        )
        pq.write_table(table, data_dir / f"{name}.parquet")
        types = ", ".join(f"{f.name}: {f.type}" for f in table.schema)
        print(f"{name}.parquet: {table.num_rows} rows; {types}")


if __name__ == "__main__":
    main()
