"""The predict function of the inference workflow (handler string predict.handler.handler): scores the batch
preprocess cleaned with the model production serves now (its pointer read on every invocation, its archive
checked against the pointer's sha256 and cached by version), writes the predictions, the rows it could not score
and a summary to the run's folder, and returns the summary as the execution's output.

    handler.py      thin: environment, event, error log
    service.py      one run over S3: model, batch in, outputs and summary out (aborted uploads on failure)
    model_store.py  the production pointer, the archive download and checks, the bounded model cache
    scoring.py      pure streaming scorer, exactly model_format.score, column-wise in C
"""
