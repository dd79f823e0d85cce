"""The data-processor Lambda: validates raw CSV objects against their dataset schema, writes clean rows to
processed/, bad rows (with reasons) and unusable objects to quarantine/. Entry point:
data_processor.handler.handler. Packaged at the zip root beside lambda_common/, with schemas.json here."""
