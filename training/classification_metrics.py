"""Binary classification metrics in the standard library, so evaluate.py reports on exactly the probabilities
model_format produces (the tests check these against scikit-learn's)."""

from __future__ import annotations

import math
from collections.abc import Sequence

METRICS_FILE = "metrics.json"  # what evaluate.py writes and publish.py copies
METRIC_NAMES = ("auc", "accuracy", "precision", "recall", "f1", "log_loss")  # the keys of metrics.json's "metrics"
LOG_LOSS_EPS = 1e-15  # probabilities are clipped to [eps, 1 - eps], as scikit-learn 1.2's log_loss does


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Area under the ROC curve: the probability that a random positive scores above a random negative, ties
    counting one half (Mann-Whitney U with average ranks). ValueError unless both classes are present."""
    positives = sum(labels)
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        raise ValueError(f"AUC needs both classes: {positives} positive, {negatives} negative rows")
    order = sorted(range(len(scores)), key=scores.__getitem__)
    rank_sum = 0.0
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        average_rank = (start + end) / 2 + 1  # ranks are 1-based; tied scores share their average rank
        rank_sum += average_rank * sum(labels[order[i]] for i in range(start, end + 1))
        start = end + 1
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def log_loss(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Mean negative log-likelihood of the labels under the scores."""
    if len(labels) != len(scores):  # an explicit check: zip(strict=True) needs Python 3.10
        raise ValueError(f"log loss needs as many scores as labels ({len(scores)} vs {len(labels)})")
    total = 0.0
    for label, score in zip(labels, scores):
        p = min(max(score, LOG_LOSS_EPS), 1.0 - LOG_LOSS_EPS)
        total -= math.log(p) if label else math.log(1.0 - p)
    return total / len(labels)


def classification_metrics(labels: Sequence[int], scores: Sequence[float], threshold: float) -> dict[str, float]:
    """auc, accuracy, precision, recall, f1, log_loss of `scores` against `labels` (1/0); a row is predicted
    positive when its score >= threshold. Precision, recall and f1 are 0.0 when undefined (no predicted or no
    actual positives), as scikit-learn reports with zero_division=0."""
    if len(labels) != len(scores) or not labels:
        raise ValueError(f"metrics need as many scores as labels, and at least one ({len(scores)} vs {len(labels)})")
    predicted = [score >= threshold for score in scores]  # as long as labels: checked above
    true_pos = sum(1 for label, guess in zip(labels, predicted) if label and guess)
    false_pos = sum(1 for label, guess in zip(labels, predicted) if not label and guess)
    false_neg = sum(1 for label, guess in zip(labels, predicted) if label and not guess)
    correct = sum(1 for label, guess in zip(labels, predicted) if bool(label) == guess)
    precision = true_pos / (true_pos + false_pos) if true_pos + false_pos else 0.0
    recall = true_pos / (true_pos + false_neg) if true_pos + false_neg else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "auc": roc_auc(labels, scores),
        "accuracy": correct / len(labels),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "log_loss": log_loss(labels, scores),
    }
