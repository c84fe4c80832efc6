//! Validation of reports against docs/report.schema.json (JSON Schema draft 2020-12), for any
//! test that produces a report: built in code here, or written by the real CLI.

use serde_json::{Value, json};

/// The schema document, as shipped in docs/.
pub const SCHEMA_TEXT: &str = include_str!("../../docs/report.schema.json");

pub fn schema() -> Value {
    serde_json::from_str(SCHEMA_TEXT).expect("docs/report.schema.json is valid JSON")
}

fn errors_against(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("the schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Every violation of the report schema in `instance` (empty when it is valid).
pub fn report_errors(instance: &Value) -> Vec<String> {
    errors_against(&schema(), instance)
}

/// Every violation of the JSON Lines line schema (`$defs/jsonl_line`) in one `--format jsonl` line.
pub fn jsonl_line_errors(line: &Value) -> Vec<String> {
    let full = schema();
    let line_schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": full["$defs"].clone(),
        "$ref": "#/$defs/jsonl_line",
    });
    errors_against(&line_schema, line)
}

/// Panics with every violation listed when `instance` is not a valid `mmsleak.report/1` report.
pub fn assert_valid_report(instance: &Value) {
    let errors = report_errors(instance);
    assert!(
        errors.is_empty(),
        "report does not match docs/report.schema.json:\n{}",
        errors.join("\n")
    );
}

/// Same for a whole `--format jsonl` output.
pub fn assert_valid_jsonl(text: &str) {
    let mut errors = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        errors.extend(
            jsonl_line_errors(&v)
                .into_iter()
                .map(|e| format!("line {}: {e}", n + 1)),
        );
    }
    assert!(
        errors.is_empty(),
        "JSON Lines do not match docs/report.schema.json:\n{}",
        errors.join("\n")
    );
}
