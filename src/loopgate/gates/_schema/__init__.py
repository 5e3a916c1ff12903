"""The schema gate's parts, one job each (the gate itself, its options and codes: `gates/schema.py`).

- `reading`: a JSON, YAML or TOML file's bytes to documents, or a syntax problem.
- `expansion`: the YAML alias-bomb guard, counted from parser events before loading.
- `loading`: the schema: read, checked against its metaschema, `$ref` loops refused, compiled.
- `fast`: the "certainly valid?" closures compiled from common draft 2020-12 keywords.
- `validating`: a file's problems (jsonschema's errors, best first, at their positions), in
  this process or in worker processes.
- `gates/_positions.py`: where a value sits in its file, for files with errors.
"""
