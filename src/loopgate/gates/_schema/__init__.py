"""The schema gate's parts, one job each (the gate itself, its options and codes: `gates/schema.py`).

- `reading`: a JSON, YAML or TOML file's bytes to documents, or a syntax problem; RFC 8259
  JSON (NaN and duplicate keys are problems), 4,300-digit numbers and deep nesting as problems.
- `decoding`: bytes to text: UTF-8, and for JSON and YAML also UTF-16 and UTF-32 (by BOM, or YAML 1.2's
  detection from the first bytes); a byte that is not text placed at its line and column in characters.
- `yaml12`: PyYAML (libyaml) reading YAML 1.2 as GitHub Actions and check-jsonschema do.
- `expansion`: the YAML alias-bomb guard, counted from parser events before loading.
- `loading`: the schema: read, checked against its metaschema, `$ref` loops refused, compiled.
- `fast`: "valid?" closures, exactly jsonschema's answer, compiled from common keywords of drafts
  6 to 2020-12 (`oneOf` and `not` included).
- `validating`: a file's problems (jsonschema's errors, best first, at their positions), in
  this process or in worker processes.
- `gates/_positions.py`: where a value sits in its file, for files with errors.
"""
