"""The predict function of the inference workflow (handler string predict.handler.handler): scores the batch
preprocess cleaned with the model production serves now (its pointer read on every invocation, its archive
checked against the pointer's sha256 and cached by version), writes the predictions, the rows it could not score
and a summary to the run's folder, and returns the summary as the execution's output.

    handler.py            thin: environment, event, error log
    service.py            one run over S3: model, batch in, outputs and summary out (aborted uploads on failure)
    model_store.py        the production pointer, the archive download and checks, the bounded model cache
    scoring.py            one batch: header check, blocks scored, the two gzip CSV outputs, the counts
    batch_reader.py       gzip CSV bytes to blocks of records as columns (split in C, or csv.reader)
    block_scoring.py      the exact column-wise scorer: every score is model_format.score's, computed in C
    background_gunzip.py  decompressing the batch on a thread, ahead of scoring
    gzip_outputs.py       compressing and writing the outputs on a thread, behind scoring
"""
