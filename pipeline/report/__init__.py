"""Presentation over a built warehouse: the HTML report (`page`), the docs page (`docs_page`)
and the model graph (`lineage`). It reads the warehouse and the SQL project; nothing in
`pipeline.warehouse` imports it, and `pipeline.run` and the CLI call it."""
