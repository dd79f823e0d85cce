"""The preprocess Lambda of the inference workflow: checks the execution input (inference_common.contract), then
validates the batch CSV against the served model's batch schema with the data processor's own row validation
(data_processor.processing.process_csv), writing the run's clean rows and rejected rows into the inference
bucket, and returns the Preprocessed document predict reads. Entry point: preprocess.handler.handler.
Packaged at the zip root beside inference_common/ (with served_models.json), data_processor/ and
lambda_common/."""
