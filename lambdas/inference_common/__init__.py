"""What the inference workflow's two functions (preprocess, predict) agree on, bundled with both: the execution
input, the run layout in the inference bucket, the served-model config and the error types the state machine
names. See contract.py."""
