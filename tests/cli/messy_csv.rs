//! Messy CSV exports, one fixture per case: a byte-order mark, `;` and tab delimiters, quoted
//! newlines, null markers, day-first dates, epoch seconds and milliseconds, ISO 8601 with
//! offsets, duplicate rows by key, several files by a glob, too many bad rows, and
//! `metrictree inspect`. Every row is either counted or reported with its line.

use crate::util::{Run, TempDir, mt, node, num};

/// A monthly tree (UTC unless `tz`) over `data` (a file or glob) with `settings` (YAML lines
/// of the source), counting rows and non-null `channel` values.
fn tree(data: &str, settings: &str, tz: &str) -> String {
    format!(
        "version: 1\nname: messy\nroot: rows\ngrain: month\ntimezone: {tz}\nmaturity: 0d\n\
owners: {{o: {{name: O}}}}\ndimensions: {{channel: {{label: Channel}}}}\n\
sources:\n  s:\n    file: {data:?}\n    time: at\n    dimensions: [channel]\n{settings}\
nodes:\n  rows: {{measure: {{source: s, agg: count}}, owner: o}}\n  with_channel: {{measure: {{source: s, agg: count, expr: channel}}}}\n\
companions: [with_channel]\n"
    )
    .replace("\\\n", "")
}

struct Case {
    dir: TempDir,
}

impl Case {
    fn new(name: &str, files: &[(&str, &[u8])]) -> Case {
        let dir = TempDir::new(name);
        for (f, bytes) in files {
            std::fs::write(dir.0.join(f), bytes).unwrap();
        }
        Case { dir }
    }

    fn eval(&self, data: &str, settings: &str, tz: &str, period: &str) -> Run {
        let t = self.dir.write("tree.yaml", &tree(data, settings, tz));
        mt(&[
            "eval",
            t.to_str().unwrap(),
            "--period",
            period,
            "--format",
            "json",
        ])
    }
}

fn values(run: &Run) -> (f64, f64) {
    let j = run.json();
    (
        num(&node(&j, "rows")["value"]),
        num(&node(&j, "with_channel")["value"]),
    )
}

#[test]
fn bom_semicolons_and_quoted_newlines() {
    let c = Case::new(
        "bom",
        &[(
            "a.csv",
            b"\xEF\xBB\xBFid;at;channel;note\n1;2016-03-01 10:00;chat;\"two\nlines; with a delimiter\"\n2;2016-03-02 10:00;email;plain\n",
        )],
    );
    let r = c.eval("a.csv", "    nulls: [NA]\n", "UTC", "2016-03");
    r.ok().stderr_has("delimiter `;` (from the header line)");
    assert_eq!(values(&r), (2.0, 2.0));
}

#[test]
fn a_newline_inside_a_segment_value_stays_on_one_line_of_the_table() {
    let c = Case::new(
        "newline-segment",
        &[(
            "a.csv",
            b"id,at,channel\n1,2016-03-01 10:00,\"web\nform\"\n2,2016-03-02 10:00,chat\n",
        )],
    );
    let t = c.dir.write("tree.yaml", &tree("a.csv", "", "UTC"));
    let t = t.to_str().unwrap();
    let out = mt(&["eval", t, "--period", "2016-03", "--by", "channel"]);
    // Minutes without seconds are not a time to the file engine: the cleaner reads them
    // and says what it assumed.
    let text = &out.ok().stderr_has("W012").stdout;
    let header = text.lines().find(|l| l.starts_with("Node")).unwrap();
    assert!(header.contains("web\\nform"), "{text}");
    // Every row of the table has the header's columns.
    let rows = text
        .lines()
        .filter(|l| l.starts_with("rows ") || l.starts_with("with channel "));
    assert_eq!(rows.count(), 2, "{text}");
    // JSON keeps the value as it is.
    let j = mt(&[
        "eval", t, "--period", "2016-03", "--by", "channel", "--format", "json",
    ])
    .ok()
    .json();
    let values: Vec<&str> = node(&j, "rows")["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["value_of"].as_str().unwrap())
        .collect();
    assert!(values.contains(&"web\nform"), "{values:?}");
}

#[test]
fn a_time_column_that_holds_no_times_is_named_with_the_fix() {
    let c = Case::new(
        "no-times",
        &[("a.csv", b"id,at,channel\n1,soon,chat\n2,later,email\n")],
    );
    c.eval("a.csv", "", "UTC", "2016-03")
        .fails_with(1)
        .stderr_has("cannot tell how `at` is written (values such as `soon`)")
        .stderr_has("`time_format`");
}

#[test]
fn tab_delimiter_and_null_markers() {
    let c = Case::new(
        "nulls",
        &[(
            "a.tsv",
            b"id\tat\tchannel\n1\t2016-03-01 10:00\t?\n2\t2016-03-02 10:00\tNA\n3\t2016-03-03 10:00\tchat\n4\t2016-03-04 10:00\t\n",
        )],
    );
    let r = c.eval("a.tsv", "    nulls: [\"?\", NA]\n", "UTC", "2016-03");
    r.ok().stderr_has("delimiter tab");
    // Four rows; only one names a channel.
    assert_eq!(values(&r), (4.0, 1.0));
}

#[test]
fn day_first_dates_with_a_bad_one_reported_by_line() {
    let c = Case::new(
        "dayfirst",
        &[(
            "a.csv",
            b"id,at,channel\n1,29/2/2016 01:16,chat\n2,1/3/2016 09:00,chat\n3,31/02/2016 10:00,chat\n4,15/03/2016,email\n",
        )],
    );
    let settings = "    time_format: day_first\n    max_bad_rows: 1\n";
    let r = c.eval("a.csv", settings, "UTC", "2016-03");
    r.ok()
        .stderr_has("W010")
        .stderr_has("1 of 4 rows (25.00%) cannot be read")
        .stderr_has("line 4: `at` = `31/02/2016 10:00` is not a time in the day_first format");
    assert_eq!(values(&r), (2.0, 2.0), "1 and 15 March");
    let feb = c.eval("a.csv", settings, "UTC", "2016-02");
    assert_eq!(values(&feb), (1.0, 1.0), "29 February");
    // Without `time_format` the format is detected, and the guess is reported.
    c.eval("a.csv", "    max_bad_rows: 1\n", "UTC", "2016-03")
        .ok()
        .stderr_has("`at`: day_first (a first number above 12: day-first)");
}

#[test]
fn epoch_seconds_and_milliseconds_are_instants() {
    // 2016-02-29T23:30:00Z is already March in Berlin.
    let c = Case::new(
        "epoch",
        &[
            (
                "s.csv",
                b"id,at,channel\n1,1456788600,chat\n2,1456704000,chat\n",
            ),
            (
                "ms.csv",
                b"id,at,channel\n1,1456788600000,chat\n2,1456704000500,chat\n",
            ),
        ],
    );
    for (file, fmt) in [("s.csv", "epoch_seconds"), ("ms.csv", "epoch_millis")] {
        let settings = format!("    time_format: {fmt}\n");
        let mar = c.eval(file, &settings, "Europe/Berlin", "2016-03");
        assert_eq!(values(mar.ok()), (1.0, 1.0), "{file}");
        let feb = c.eval(file, &settings, "Europe/Berlin", "2016-02");
        assert_eq!(values(feb.ok()), (1.0, 1.0), "{file}");
        // Detected the same way without the setting.
        let auto = c.eval(file, "    max_bad_rows: 0\n", "Europe/Berlin", "2016-03");
        auto.ok().stderr_has(&format!("`at`: {fmt}"));
    }
}

#[test]
fn iso_times_with_offsets_are_placed_in_the_trees_zone() {
    let c = Case::new(
        "iso",
        &[(
            "a.csv",
            b"id,at,channel\n1,2016-03-31T23:30:00-01:00,chat\n2,2016-04-01T00:30:00+02:00,chat\n3,2016-03-31T22:30:00Z,email\n",
        )],
    );
    // In Berlin (CEST, +02:00): 01:30 on 1 April, 00:30 on 1 April, 00:30 on 1 April.
    let apr = c.eval(
        "a.csv",
        "    time_format: iso\n",
        "Europe/Berlin",
        "2016-04",
    );
    assert_eq!(values(apr.ok()), (3.0, 3.0));
    // In UTC: 00:30 on 1 April, 22:30 and 22:30 on 31 March.
    let mar = c.eval("a.csv", "    time_format: iso\n", "UTC", "2016-03");
    assert_eq!(values(mar.ok()), (2.0, 2.0));
}

#[test]
fn duplicates_by_key_are_dropped_and_reported() {
    let c = Case::new(
        "dups",
        &[(
            "a.csv",
            b"id,at,channel\n1,2016-03-01 10:00,chat\n2,2016-03-01 11:00,chat\n1,2016-03-01 10:00,chat\n2,2016-03-01 11:00,email\n3,2016-03-02 09:00,phone\n",
        )],
    );
    let r = c.eval("a.csv", "    key: [id]\n", "UTC", "2016-03");
    r.ok()
        .stderr_has("W011")
        .stderr_has("2 duplicate rows by key (id) were dropped; 3 rows remain")
        .stderr_has("line 4 repeats line 2")
        .stderr_has("line 5 repeats line 3");
    assert_eq!(values(&r), (3.0, 3.0));
}

#[test]
fn several_export_files_by_glob_with_bad_rows_by_file_and_line() {
    let c = Case::new(
        "glob",
        &[
            (
                "export-1.csv",
                b"id,at,channel\n1,2016-03-01 10:00,chat\n2,2016-03-02 10:00,chat\n",
            ),
            (
                "export-2.csv",
                b"id,at,channel\n3,2016-03-03 10:00,email\n4,2016-03-04 10:00\n",
            ),
            ("other.csv", b"id,at,channel\n9,2016-03-09 10:00,chat\n"),
        ],
    );
    let r = c.eval("export-*.csv", "    max_bad_rows: 1\n", "UTC", "2016-03");
    r.ok()
        .stderr_has("1 of 4 rows (25.00%) cannot be read")
        .stderr_has("export-2.csv:3: has 2 fields, the header has 3");
    assert_eq!(values(&r), (3.0, 3.0));
    // A pattern that matches nothing says so.
    let none = c.eval("nothing-*.csv", "", "UTC", "2016-03");
    none.fails_with(1).stderr_has("no file matches");
}

#[test]
fn too_many_bad_rows_is_an_error() {
    let c = Case::new(
        "threshold",
        &[(
            "a.csv",
            b"id,at,channel\n1,2016-03-01 10:00,chat\n2,not a date,chat\n3,2016-03-03 10:00,chat\n",
        )],
    );
    // The default tolerance is 1 % of rows: one bad row in three is too many.
    c.eval("a.csv", "    time_format: iso\n", "UTC", "2016-03")
        .fails_with(1)
        .stderr_has("E039")
        .stderr_has("1 of 3 rows (33.33%) cannot be read, more than `max_bad_rows` allows (0)")
        .stderr_has("line 3: `at` = `not a date` is not a time in the iso format");
    let ok = c.eval(
        "a.csv",
        "    time_format: iso\n    max_bad_rows: 0.5\n",
        "UTC",
        "2016-03",
    );
    assert_eq!(values(ok.ok()), (2.0, 2.0));
}

#[test]
fn inspect_shows_columns_types_nulls_and_misfit_rows() {
    let c = Case::new(
        "inspect",
        &[(
            "a.csv",
            b"\xEF\xBB\xBFid;opened;channel;epoch\n1;29/2/2016 01:16;chat;1456708560\n2;1/3/2016 09:00;?;1456708561\n3;2/3/2016 10:00;\"multi\nline\";1456708562\n4;3/3/2016 11:00;NA;1456708563\n5;3/3/2016 10:00\n",
        )],
    );
    let out = mt(&["inspect", c.dir.0.join("a.csv").to_str().unwrap()]);
    let s = &out.ok().stdout;
    for want in [
        "5 rows, 4 columns; delimiter `;`; UTF-8 with a byte-order mark (ignored); 1 values span lines",
        "1 rows do not have 4 fields: line 7 (2 fields)",
        "time: day_first",
        "? ×1, NA ×1",
        "integer (or time: epoch_seconds)",
        "nulls: [\"?\", \"NA\"]",
    ] {
        assert!(s.contains(want), "inspect lacks {want:?}:\n{s}");
    }
}
