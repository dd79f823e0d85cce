"""Model promotion: candidate -> production, approved, verified, reversible (README: Promoting a model).

    record.py     the promotion record (platform_config/promotions/<env>.json): what production serves, and when
    pointer.py    the production pointer, the contract serving reads (models/<name>/production.json)
    candidate.py  the checks a candidate passes first (artifact contract, sha256, quality gate)
    deployed.py   what production holds now: verify after apply, refuse a record that is behind
    identity.py   who, which run, which commit
    cli.py        `python -m promotion` (check, stage, rollback, discard, plan, apply, verify, history, promote)
    record_commit.py  the workflow's last step: the run's reviewers into the record, the record pushed to main

The artifact store stack turns the record into Terraform (building_blocks/production_model.py).
"""
